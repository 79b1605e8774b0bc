package floodtest

// PID returns Flood's process id, or 0 before it started.
func (f *Flood) PID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.proc == nil {
		return 0
	}
	return f.proc.cmd.Process.Pid
}

// ReadSCGIRequest exposes the tap's parser to the fuzz target.
var ReadSCGIRequest = readSCGIRequest

// RepoRoot exposes the go.mod search.
var RepoRoot = repoRoot
