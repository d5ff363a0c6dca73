package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/storetest"
)

// The crash test (docs/DESIGN.md "Integrity"): the real `make run` binary is
// killed with SIGKILL again and again while workers add, remark and delete
// members concurrently, and restarted on the same data. At the end:
//
//   - every change a client saw acknowledged is in the audit trail, under
//     the RequestId of its answer;
//   - replaying the audit trail account by account gives exactly the member
//     table: no applied change lacks its record, no record describes a
//     change that did not happen, none is there twice.
func TestKilledServerLeavesNoChangeUnaudited(t *testing.T) {
	const (
		kills    = 8
		accounts = 40
		workers  = 6
	)
	bin := buildLocalServer(t)
	dir := t.TempDir()
	pool := seedDirectory(t, dir, accounts)

	var acks []ack
	for round := range kills {
		p := startProcess(t, bin, dir)
		acks = append(acks, hammer(t, p.base, pool, workers, 20+rand.IntN(40), func() { p.kill(t) })...)
		t.Logf("round %d: killed after %d acknowledged changes so far", round+1, len(acks))
	}

	p := startProcess(t, bin, dir)
	defer p.kill(t)
	ma := &client{t: t, base: p.base}
	ma = ma.as(owner)
	members := listAllMembers(ma)
	records := listAllAudit(ma, func(r auditRecord) bool {
		return r.Action == "add-members" || r.Action == "update-member-remark" || r.Action == "delete-members"
	})

	byRequest := map[string][]auditRecord{}
	for _, r := range records {
		byRequest[r.RequestID] = append(byRequest[r.RequestID], r)
	}
	for _, a := range acks {
		found := slices.ContainsFunc(byRequest[a.requestID], func(r auditRecord) bool {
			return r.Target == a.account && r.Action == a.action
		})
		if !found {
			t.Errorf("acknowledged %s of %s (request %s) has no audit record", a.action, a.account, a.requestID)
		}
	}

	// Replay: the trail, oldest first, must produce the member table.
	trail := make([]store.AuditEvent, len(records))
	for i, r := range records {
		trail[len(records)-1-i] = store.AuditEvent{ID: r.ID(), Action: r.Action, Target: r.Target, Detail: r.Detail}
	}
	replayed, problems := storetest.ReplayTrail(trail)
	for _, p := range problems {
		t.Error(p)
	}
	table := map[string]string{}
	for id, m := range members {
		table[id] = m.Remark
	}
	if !maps.Equal(table, replayed) {
		t.Errorf("member table %v, but the audit trail says %v", table, replayed)
	}
	t.Logf("%d kills, %d acknowledged changes, %d member audit records, %d members at the end",
		kills, len(acks), len(records), len(members))
}

type ack struct{ requestID, action, account string }

// remarkSeq makes every remark text new, across rounds too: setting the
// remark a member already has is a no-op without a record, by design.
var remarkSeq atomic.Int64

type auditRecord struct {
	Time, Action, Target, Result, RequestID, ActorRole string
	Detail                                             map[string]string
}

func (r auditRecord) ID() string { return r.Time + "/" + r.RequestID }

// UnmarshalJSON reads the wire names (RequestId).
func (r *auditRecord) UnmarshalJSON(b []byte) error {
	var w struct {
		Time, Action, Target, Result, RequestId, ActorRole string
		Detail                                             map[string]string
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = auditRecord{w.Time, w.Action, w.Target, w.Result, w.RequestId, w.ActorRole, w.Detail}
	return nil
}

type memberRow struct{ Remark string }

// buildLocalServer builds scripts/localserver, the binary `make run` runs.
func buildLocalServer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and kills the local server binary (make test runs it)")
	}
	bin := filepath.Join(t.TempDir(), "localserver")
	cmd := exec.Command("go", "build", "-o", bin, "./scripts/localserver")
	cmd.Dir = "../../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./scripts/localserver: %v\n%s", err, out)
	}
	return bin
}

// seedDirectory enables the directory and brings n accounts into it, with
// the in-process server, and returns their UIDs.
func seedDirectory(t *testing.T, dir string, n int) []string {
	t.Helper()
	base, stop := start(t, dir, nil)
	defer stop()
	ma := (&client{t: t, base: base}).as(owner)
	ma.call("POST", "/enable-directory", map[string]any{}, 200)
	anon := &client{t: t, base: base}
	var pool []string
	for len(pool) < n {
		var targets []map[string]string
		for range min(20, n-len(pool)) {
			id := fmt.Sprintf("%016d", 2000000000000000+len(pool)+len(targets))
			targets = append(targets, map[string]string{"AccountId": id})
		}
		out := ma.call("POST", "/invite-accounts", map[string]any{"Targets": targets}, 200)
		for _, r := range out["Results"].([]any) {
			r := r.(map[string]any)
			anon.call("POST", "/_local/accept-invitation", map[string]string{"InvitationId": r["InvitationId"].(string)}, 200)
			pool = append(pool, r["Target"].(string))
		}
	}
	return pool
}

type process struct {
	cmd    *exec.Cmd
	base   string
	exited chan struct{}
}

// startProcess runs the binary on dir and returns once it logs that it
// serves (it listens before it says so).
func startProcess(t *testing.T, bin, dir string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DATA_DIR="+dir, "PORT="+strconv.Itoa(port), "LOG_LEVEL=info")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), "serving every function") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	if !<-ready {
		t.Fatal("the local server exited before serving")
	}
	return p
}

// kill sends SIGKILL: the process gets no chance to finish anything.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	<-p.exited
}

// hammer runs workers that add, remark and delete members of pool; once
// atLeast changes are acknowledged it calls kill while the other workers'
// requests are in flight, and returns every change acknowledged before the
// server died.
func hammer(t *testing.T, base string, pool []string, workers, atLeast int, kill func()) []ack {
	t.Helper()
	ma := (&client{t: t, base: base}).as(owner)
	var mu sync.Mutex
	var acks []ack
	var done atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !done.Load(); n++ {
				id := pool[rand.IntN(len(pool))]
				var a *ack
				switch rand.IntN(3) {
				case 0:
					a = try(base, ma.token, "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": id, "Remark": "r0"}}}, "add-members", id, "Added")
				case 1:
					a = try(base, ma.token, "/update-member-remark", map[string]any{"AccountId": id, "Remark": fmt.Sprintf("w%d-%d-%d", w, n, remarkSeq.Add(1))}, "update-member-remark", id, "")
				default:
					a = try(base, ma.token, "/delete-members", map[string]any{"AccountIds": []string{id}}, "delete-members", id, "Deleted")
				}
				if a != nil {
					mu.Lock()
					acks = append(acks, *a)
					fire := len(acks) == atLeast
					mu.Unlock()
					if fire {
						kill() // the others are mid-request
						done.Store(true)
					}
				}
			}
		}()
	}
	wg.Wait()
	return acks
}

// try sends one change; it returns the acknowledged change, or nil when the
// answer was not a 200 that reports the change made (wantStatus "" means
// any 200: update-member-remark answers the member).
func try(base, token, path string, body any, action, account, wantStatus string) *ack {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	var out struct {
		RequestId string
		Results   []struct{ Status string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil
	}
	if wantStatus != "" && (len(out.Results) != 1 || out.Results[0].Status != wantStatus) {
		return nil
	}
	return &ack{requestID: out.RequestId, action: action, account: account}
}

func listAllMembers(c *client) map[string]*memberRow {
	out := map[string]*memberRow{}
	token := ""
	for {
		path := "/list-members?MaxResults=100"
		if token != "" {
			path += "&NextToken=" + url.QueryEscape(token)
		}
		page := c.call("GET", path, nil, 200)
		for _, m := range page["Members"].([]any) {
			m := m.(map[string]any)
			out[m["AccountId"].(string)] = &memberRow{Remark: m["Remark"].(string)}
		}
		next, _ := page["NextToken"].(string)
		if next == "" {
			return out
		}
		token = next
	}
}

// listAllAudit returns the records of the trail that keep says to, newest
// first.
func listAllAudit(c *client, keep func(auditRecord) bool) []auditRecord {
	var out []auditRecord
	token := ""
	for {
		path := "/list-audit-events?MaxResults=100"
		if token != "" {
			path += "&NextToken=" + url.QueryEscape(token)
		}
		raw, _ := json.Marshal(c.call("GET", path, nil, 200))
		var page struct {
			Events    []auditRecord
			NextToken string
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			c.t.Fatal(err)
		}
		for _, e := range page.Events {
			if keep(e) {
				out = append(out, e)
			}
		}
		if page.NextToken == "" {
			return out
		}
		token = page.NextToken
	}
}
