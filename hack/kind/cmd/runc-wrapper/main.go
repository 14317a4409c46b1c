// Command runc-wrapper stands in for runc where the host's capability bounding
// set lacks CAP_SYS_RESOURCE (our CI machines): every privileged container then
// fails in runc with "unable to apply caps: operation not permitted".
//
// Before `create`/`run` it rewrites the bundle's config.json, before `exec` the
// --process JSON, then execs the real runc with the same arguments:
//   - CAP_SYS_RESOURCE leaves every capability set (it cannot be granted);
//   - RLIMIT_NOFILE is capped at the caller's hard limit (raising it above
//     needs the capability);
//   - a process.oomScoreAdj below the caller's own is raised to it (lowering
//     it needs the capability; the CRI gives pod sandboxes -998).
//
// It is registered as dockerd's runtime for kind's node containers and installed
// as /usr/local/sbin/runc inside the node for containerd's pods. Where the
// caller's bounding set has the capability (a user's machine) it changes nothing.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// realRunc is the runc this wrapper execs; KUBETRADE_REAL_RUNC overrides it.
const realRunc = "/usr/sbin/runc"

func main() {
	args := os.Args[1:]
	if err := adjust(args); err != nil {
		// runc's own error would be less clear than ours about what failed.
		fmt.Fprintf(os.Stderr, "runc-wrapper: %v\n", err)
		os.Exit(1)
	}
	runc := os.Getenv("KUBETRADE_REAL_RUNC")
	if runc == "" {
		runc = realRunc
	}
	argv := append([]string{runc}, args...)
	if err := syscall.Exec(runc, argv, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-wrapper: exec %s: %v\n", runc, err)
		os.Exit(1)
	}
}

// limits is what the caller itself is allowed, read once per invocation.
type limits struct {
	nofileHard  uint64
	oomScoreAdj int
}

func callerLimits() (limits, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return limits{}, fmt.Errorf("getrlimit: %w", err)
	}
	raw, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return limits{}, err
	}
	adj, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return limits{}, fmt.Errorf("oom_score_adj: %w", err)
	}
	return limits{nofileHard: rl.Max, oomScoreAdj: adj}, nil
}

// capSysResource is CAP_SYS_RESOURCE's bit in /proc/self/status's CapBnd.
const capSysResource = 24

func hasSysResource() (bool, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			bnd, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return false, fmt.Errorf("CapBnd: %w", err)
			}
			return bnd&(1<<capSysResource) != 0, nil
		}
	}
	return false, fmt.Errorf("no CapBnd in /proc/self/status")
}

// adjust rewrites the JSON the given runc command line will read, if any.
func adjust(args []string) error {
	cmd, rest := subcommand(args)
	var path string
	switch cmd {
	case "create", "run":
		path = flagValue(rest, "bundle", "b")
		if path == "" {
			path = "."
		}
		path += "/config.json"
	case "exec":
		path = flagValue(rest, "process", "p")
	}
	if path == "" {
		return nil
	}
	if ok, err := hasSysResource(); err != nil || ok {
		return err
	}
	lim, err := callerLimits()
	if err != nil {
		return err
	}
	return rewriteFile(path, cmd == "exec", lim)
}

// globalWithValue are runc's global flags that take a separate value.
var globalWithValue = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

// subcommand returns runc's subcommand and the arguments after it.
func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, args[i+1:]
		}
		if globalWithValue[a] {
			i++
		}
	}
	return "", nil
}

// flagValue finds --long VALUE, --long=VALUE, -s VALUE (or their one-dash forms).
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != long && name != short) {
			continue
		}
		if hasVal {
			return val
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func rewriteFile(path string, isProcess bool, lim limits) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := rewrite(raw, isProcess, lim)
	if err != nil || out == nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}

// rewrite returns the adjusted JSON, or nil when nothing needed to change.
// Fields are kept as generic maps so that every field runc knows survives.
func rewrite(raw []byte, isProcess bool, lim limits) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	proc := doc
	if !isProcess {
		p, ok := doc["process"].(map[string]any)
		if !ok {
			return nil, nil
		}
		proc = p
	}
	if !adjustProcess(proc, lim) {
		return nil, nil
	}
	return json.Marshal(doc)
}

func adjustProcess(proc map[string]any, lim limits) bool {
	changed := false
	if caps, ok := proc["capabilities"].(map[string]any); ok {
		for set, v := range caps {
			list, ok := v.([]any)
			if !ok {
				continue
			}
			kept := list[:0:0]
			for _, c := range list {
				if c != "CAP_SYS_RESOURCE" {
					kept = append(kept, c)
				}
			}
			if len(kept) != len(list) {
				caps[set] = kept
				changed = true
			}
		}
	}
	if rls, ok := proc["rlimits"].([]any); ok {
		for _, v := range rls {
			rl, ok := v.(map[string]any)
			if !ok || rl["type"] != "RLIMIT_NOFILE" {
				continue
			}
			for _, k := range []string{"hard", "soft"} {
				if n, ok := rl[k].(float64); ok && n > float64(lim.nofileHard) {
					rl[k] = lim.nofileHard
					changed = true
				}
			}
		}
	}
	if adj, ok := proc["oomScoreAdj"].(float64); ok && int(adj) < lim.oomScoreAdj {
		proc["oomScoreAdj"] = lim.oomScoreAdj
		changed = true
	}
	return changed
}
