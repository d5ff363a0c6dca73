package rolecheck

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/role"
)

// countingDir is a directory with a fixed answer that counts its calls.
type countingDir struct {
	mu       sync.Mutex
	dir      *directory.Directory
	das      []directory.DelegatedAdmin
	accounts []directory.Account
	calls    map[string]int
}

func (c *countingDir) count(name string) {
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *countingDir) GetDirectory(context.Context) (directory.Directory, error) {
	c.count("GetDirectory")
	if c.dir == nil {
		return directory.Directory{}, apperr.NotFound(apperr.CodeNoDirectory, "none")
	}
	return *c.dir, nil
}

func (c *countingDir) ListDelegatedAdmins(context.Context) ([]directory.DelegatedAdmin, error) {
	c.count("ListDelegatedAdmins")
	return c.das, nil
}

func (c *countingDir) ListAccounts(context.Context) ([]directory.Account, error) {
	c.count("ListAccounts")
	return c.accounts, nil
}

func (c *countingDir) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

const (
	owner = "1000000000000001"
	da    = "1000000000000002"
	mem   = "1000000000000003"
	other = "1000000000000009"
)

// root is the account's root identity.
func root(acct string) role.Person { return role.Person{AccountID: acct, UserID: acct} }

func newDir() *countingDir {
	return &countingDir{
		dir:      &directory.Directory{ID: "rd-1", ManagementAccountID: owner},
		das:      []directory.DelegatedAdmin{{AccountID: da}},
		accounts: []directory.Account{{AccountID: owner}, {AccountID: da}, {AccountID: mem}},
		calls:    map[string]int{},
	}
}

func TestRolesComeFromTheDirectory(t *testing.T) {
	d := newDir()
	c := NewChecker(d, sameGeneration{}, owner, time.Minute)
	for acct, want := range map[string]Role{owner: RoleManagement, da: RoleDelegated, mem: RoleMember, other: RoleNone} {
		s, err := c.Resolve(context.Background(), acct)
		if err != nil || s.Role != want {
			t.Errorf("%s: role %s, %v; want %s", acct, s.Role, err, want)
		}
	}
	noRD := &countingDir{calls: map[string]int{}}
	c = NewChecker(noRD, sameGeneration{}, owner, time.Minute)
	if s, _ := c.Resolve(context.Background(), owner); s.Role != RoleOwner || s.Directory != nil {
		t.Errorf("owner before step 1: %+v", s)
	}
	if s, _ := c.Resolve(context.Background(), other); s.Role != RoleNone {
		t.Errorf("stranger before step 1: %+v", s)
	}
}

func TestCallCostColdAndWarm(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		acct string
		cold int
	}{{owner, 1}, {da, 2}, {mem, 3}, {other, 3}} {
		d := newDir()
		c := NewChecker(d, sameGeneration{}, owner, time.Minute)
		if _, err := c.Resolve(ctx, tc.acct); err != nil {
			t.Fatal(err)
		}
		if got := d.total(); got != tc.cold {
			t.Errorf("%s cold: %d directory calls, want %d (%v)", tc.acct, got, tc.cold, d.calls)
		}
		if _, err := c.Resolve(ctx, tc.acct); err != nil {
			t.Fatal(err)
		}
		if got := d.total(); got != tc.cold {
			t.Errorf("%s warm: %d more directory calls, want 0", tc.acct, got-tc.cold)
		}
	}
}

func TestCacheExpiresAndInvalidates(t *testing.T) {
	ctx := context.Background()
	d := newDir()
	now := time.Unix(1_700_000_000, 0)
	c := NewChecker(d, sameGeneration{}, owner, time.Minute, WithClock(func() time.Time { return now }))
	if s, _ := c.Resolve(ctx, mem); s.Role != RoleMember {
		t.Fatal(s)
	}
	d.das = append(d.das, directory.DelegatedAdmin{AccountID: mem})
	if s, _ := c.Resolve(ctx, mem); s.Role != RoleMember {
		t.Fatalf("within TTL the cached role is served: %v", s.Role)
	}
	now = now.Add(61 * time.Second)
	if s, _ := c.Resolve(ctx, mem); s.Role != RoleDelegated {
		t.Fatalf("after TTL: %v", s.Role)
	}
	d.das = d.das[:1]
	c.Invalidate()
	if s, _ := c.Resolve(ctx, mem); s.Role != RoleMember {
		t.Fatalf("after Invalidate: %v", s.Role)
	}
	zero := NewChecker(d, sameGeneration{}, owner, 0)
	before := d.total()
	zero.Resolve(ctx, owner)
	zero.Resolve(ctx, owner)
	if d.total()-before != 2 {
		t.Fatalf("TTL 0 must not cache")
	}
}

func TestAuthorizeAppliesThePolicy(t *testing.T) {
	ctx := context.Background()
	c := NewChecker(newDir(), sameGeneration{}, owner, time.Minute)
	for _, action := range Actions() {
		for acct, role := range map[string]Role{owner: RoleManagement, da: RoleDelegated, mem: RoleMember, other: RoleNone} {
			_, err := c.Authorize(ctx, root(acct), action)
			switch Policy[action].Roles[role] {
			case Allow:
				if err != nil {
					t.Errorf("%s by %s: %v", action, role, err)
				}
			case InDirectory:
				if !apperr.IsCode(err, "EntityAlreadyExists.ResourceDirectory") {
					t.Errorf("%s by %s: %v", action, role, err)
				}
			default:
				if !apperr.IsCode(err, "Forbidden.Role") {
					t.Errorf("%s by %s: %v", action, role, err)
				}
			}
		}
	}
	noRD := NewChecker(&countingDir{calls: map[string]int{}}, sameGeneration{}, owner, time.Minute)
	for _, action := range Actions() {
		_, err := noRD.Authorize(ctx, root(owner), action)
		want := map[Decision]apperr.Code{Allow: "", NoDirectory: "EntityNotExists.ResourceDirectory"}[Policy[action].Roles[RoleOwner]]
		if (want == "" && err != nil) || (want != "" && !apperr.IsCode(err, want)) {
			t.Errorf("owner before step 1, %s: %v (want %q)", action, err, want)
		}
		if _, err := noRD.Authorize(ctx, root(other), action); !apperr.IsCode(err, "Forbidden.Role") {
			t.Errorf("stranger before step 1, %s: %v", action, err)
		}
	}
	if _, err := c.Authorize(ctx, root(owner), "no-such-action"); !apperr.IsKind(err, apperr.KindInternal) {
		t.Errorf("unknown action: %v", err)
	}
}

// Every action but describe-setup and enable-directory acts in the caller's
// directory: the policy allows it only to roles that have one, so a
// Subject it allows is always Scoped (endpoints rely on it).
func TestActionsInADirectoryNeedOne(t *testing.T) {
	for _, act := range Actions() {
		if act == action.DescribeSetup || act == action.EnableDirectory {
			continue
		}
		for _, role := range []Role{RoleOwner, RoleNone} {
			if Policy[act].Roles[role] == Allow {
				t.Errorf("%s is allowed to %s, which has no directory", act, role)
			}
		}
	}
	d := directory.Directory{ID: "rd-1"}
	if sc, ok := (Subject{AccountID: owner, Role: RoleManagement, Directory: &d}).Scoped(); !ok || sc.Directory != d {
		t.Errorf("Scoped with a directory: %+v %v", sc, ok)
	}
	if _, ok := (Subject{AccountID: owner, Role: RoleOwner}).Scoped(); ok {
		t.Error("Scoped without a directory: ok")
	}
}

// sameGeneration is a store whose directory generation never moves: the
// cache is dropped only by Invalidate and the TTL.
type sameGeneration struct{}

func (sameGeneration) Generation(context.Context) (int64, error) { return 1, nil }
