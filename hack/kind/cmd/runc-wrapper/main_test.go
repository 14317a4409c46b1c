package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestSubcommandSkipsGlobalFlagValues(t *testing.T) {
	cmd, rest := subcommand([]string{"--root", "/run/runc", "--log", "x.log", "--systemd-cgroup", "create", "--bundle", "/b", "id"})
	if cmd != "create" || !reflect.DeepEqual(rest, []string{"--bundle", "/b", "id"}) {
		t.Fatalf("got %q %q", cmd, rest)
	}
}

func TestFlagValueForms(t *testing.T) {
	for _, args := range [][]string{{"--bundle", "/b"}, {"--bundle=/b"}, {"-b", "/b"}, {"--pid-file", "p", "-bundle", "/b"}} {
		if got := flagValue(args, "bundle", "b"); got != "/b" {
			t.Errorf("%q: got %q", args, got)
		}
	}
	if got := flagValue([]string{"--pid-file", "/b"}, "bundle", "b"); got != "" {
		t.Errorf("unrelated flag matched: %q", got)
	}
}

func TestRewriteConfig(t *testing.T) {
	in := `{"ociVersion":"1.2.0","process":{"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE"],"effective":["CAP_SYS_RESOURCE"]},
	"rlimits":[{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576},{"type":"RLIMIT_NPROC","hard":5,"soft":5}],"oomScoreAdj":-998},"hostname":"h"}`
	out, err := rewrite([]byte(in), false, limits{nofileHard: 20000, oomScoreAdj: -500})
	if err != nil || out == nil {
		t.Fatalf("rewrite: %v %s", err, out)
	}
	var doc struct {
		Hostname string `json:"hostname"`
		Process  struct {
			Capabilities map[string][]string `json:"capabilities"`
			Rlimits      []struct {
				Type       string
				Hard, Soft uint64
			} `json:"rlimits"`
			OomScoreAdj int `json:"oomScoreAdj"`
		} `json:"process"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Process
	if !reflect.DeepEqual(p.Capabilities["bounding"], []string{"CAP_CHOWN"}) || len(p.Capabilities["effective"]) != 0 {
		t.Errorf("caps: %v", p.Capabilities)
	}
	if p.Rlimits[0].Hard != 20000 || p.Rlimits[0].Soft != 20000 || p.Rlimits[1].Hard != 5 {
		t.Errorf("rlimits: %+v", p.Rlimits)
	}
	if p.OomScoreAdj != -500 || doc.Hostname != "h" {
		t.Errorf("oom %d hostname %q", p.OomScoreAdj, doc.Hostname)
	}
}

func TestRewriteLeavesAllowedSpecAlone(t *testing.T) {
	in := `{"capabilities":{"bounding":["CAP_CHOWN"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"oomScoreAdj":0}`
	out, err := rewrite([]byte(in), true, limits{nofileHard: 20000, oomScoreAdj: -500})
	if err != nil || out != nil {
		t.Fatalf("want no change, got %s %v", out, err)
	}
}
