package floodtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// installHint is what Start says when Flood is not installed.
const installHint = "flood not installed: run npm ci in testdata/flood"

// install is the Flood that testdata/flood pins and npm ci put on disk.
type install struct {
	bin     string // node_modules/.bin/flood
	pinned  string // the version testdata/flood/package.json asks for
	version string // the version node_modules/flood/package.json reports
}

// findInstall locates Flood under the repository that holds the working
// directory (go test runs a package's tests in its own directory). A
// missing binary is reported with errNotInstalled.
func findInstall() (install, error) {
	wd, err := os.Getwd()
	if err != nil {
		return install{}, err
	}
	root, err := repoRoot(wd)
	if err != nil {
		return install{}, err
	}
	dir := filepath.Join(root, "testdata", "flood")
	in := install{bin: filepath.Join(dir, "node_modules", ".bin", "flood")}
	if _, err := os.Stat(in.bin); err != nil {
		return in, fmt.Errorf("%w (%v)", errNotInstalled, err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &pkg); err != nil {
		return in, err
	}
	in.pinned = pkg.Dependencies["flood"]
	var mod struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(dir, "node_modules", "flood", "package.json"), &mod); err != nil {
		return in, err
	}
	in.version = mod.Version
	return in, nil
}

// repoRoot walks up from dir to the first directory holding go.mod.
func repoRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		d = parent
	}
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// errNotInstalled means node_modules/.bin/flood is missing.
var errNotInstalled = errors.New(installHint)
