package floodtest

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

const (
	// stopTimeout bounds how long Close waits after SIGTERM before it kills
	// Flood's process group. Node has no SIGTERM handler by default and
	// Flood installs none, so Flood normally dies at once.
	stopTimeout = 5 * time.Second
)

// process is one run of Flood. Its wait goroutine owns the Wait call and
// closes done after it.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait; read only after done is closed
}

// startProcess starts cmd in its own process group and the goroutine that
// waits for it.
func startProcess(cmd *exec.Cmd) (*process, error) {
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go p.wait()
	return p, nil
}

func (p *process) wait() {
	p.err = p.cmd.Wait()
	close(p.done)
}

// exited reports whether the process has ended and been reaped.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopTimeout, then kills the whole group;
// it returns once the process has been reaped. Whatever Flood may have run
// (mediainfo) shares the group and is killed with it.
func (p *process) stop() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err == nil {
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
		}
	}
	p.kill()
}

// kill sends SIGKILL to the process group and waits for the leader.
func (p *process) kill() {
	if err := signalGroup(p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// floodEnv is the environment Flood runs with: the test's, less the
// FLOOD_OPTION_* variables Flood would read as flags (yargs .env), so that
// a developer's settings cannot change what a test runs.
func floodEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) >= len("FLOOD_OPTION_") && kv[:len("FLOOD_OPTION_")] == "FLOOD_OPTION_" {
			continue
		}
		env = append(env, kv)
	}
	return env
}
