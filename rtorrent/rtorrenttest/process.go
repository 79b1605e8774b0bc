package rtorrenttest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one run of rTorrent. Its wait goroutine owns the Wait call and
// closes done after it.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait; read only after done is closed
	// nudge: repeat SIGTERM until rTorrent exits (0.9.8; see stop).
	nudge bool
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

// awaitReady polls the socket until rTorrent answers system.pid with its
// own pid. A dial alone is not enough: rTorrent opens the socket while
// reading the rc file, before binding its peer port and loading its
// session, and can still exit after accepting a connection.
func (p *process) awaitReady(socket string, timeout time.Duration) error {
	pid := p.cmd.Process.Pid
	want := fmt.Sprintf("<i8>%d</i8>", pid)
	body := []byte(`<?xml version="1.0"?><methodCall><methodName>system.pid</methodName><params></params></methodCall>`)
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		reply, err := rawCall(ctx, socket, body)
		cancel()
		if err == nil {
			if strings.Contains(string(reply), want) {
				return nil
			}
			return fmt.Errorf("rtorrent (pid %d) gave an unexpected system.pid reply: %q", pid, reply)
		}
		select {
		case <-p.done:
			return fmt.Errorf("rtorrent exited before it was ready (%v)", p.err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rtorrent (pid %d) not ready after %v: %w", pid, timeout, err)
		}
	}
}

// stop shuts rTorrent down and waits for it. rTorrent 0.9.8 treats
// SIGTERM as its quick shutdown: it closes the downloads and saves the
// session, but does not wait to announce "stopped" to trackers (SIGINT or
// system.shutdown.normal would, for up to 5 s). A single signal takes
// 0.6-0.95 s to act on, apparently until rTorrent's main loop next wakes
// from its poll (system.shutdown.normal, which runs inside rTorrent, exits
// in ~45 ms); repeating the signal wakes it, and a stop takes ~15 ms. A repeated SIGTERM only repeats the quick-shutdown
// request; the self-tests check that the session still survives. 0.16.17
// acts on the first SIGTERM at once, and a second one can cut its session
// save short (measured: a d.custom1 set before the stop was lost under
// load), so it gets one.
func (p *process) stop() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.kill()
		return
	}
	nudge := time.NewTicker(nudgeInterval)
	defer nudge.Stop()
	deadline := time.NewTimer(stopTimeout)
	defer deadline.Stop()
	for {
		select {
		case <-p.done:
			// Leftovers from execute.* share the group; the leader is gone.
			_ = signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
			return
		case <-nudge.C:
			if p.nudge {
				_ = p.cmd.Process.Signal(syscall.SIGTERM)
			}
		case <-deadline.C:
			p.kill()
			return
		}
	}
}

// kill sends SIGKILL to rTorrent's process group and waits for rTorrent.
func (p *process) kill() {
	if err := signalGroup(p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}
