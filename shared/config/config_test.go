package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/testkit/doctest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLocalDefaults(t *testing.T) {
	// FC_ACCOUNT_ID is Function Compute's: outside it, OWNER_ACCOUNT_ID counts.
	c, err := Load(env(map[string]string{"FC_ACCOUNT_ID": "1234567890123456", "LOG_LEVEL": " Debug "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.InFC || c.Port != 9000 || c.Store != "embedded" || c.Directory != "simulated" ||
		c.OwnerAccountID != "1000000000000001" || c.ServicePrincipal != "csas.aliyuncs.com" || c.RoleCacheTTL.Seconds() != 60 || c.LogLevel != "debug" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFunctionComputeDefaultsAndRefusals(t *testing.T) {
	fc := map[string]string{"FC_RUNTIME_API": "127.0.0.1:9000", "FC_ACCOUNT_ID": "1234567890123456", "OWNER_ACCOUNT_ID": "1000000000000009",
		"TABLESTORE_ENDPOINT": "https://i.cn-hangzhou.vpc.tablestore.aliyuncs.com", "TABLESTORE_INSTANCE": "i",
		"JWT_ISSUER": "https://idp.example.com", "JWT_AUDIENCE": "sase", "JWKS_URL": "https://idp.example.com/jwks",
		"PAGE_TOKEN_KEY": strings.Repeat("k", 32)}
	c, err := Load(env(fc))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "tablestore" || c.Directory != "resourcemanager" || c.OwnerAccountID != "1234567890123456" {
		t.Fatalf("FC defaults: %+v", c)
	}
	for name, change := range map[string][2]string{
		"STORE=embedded":                 {"STORE", "embedded"},
		"DIRECTORY=simulated":            {"DIRECTORY", "simulated"},
		"JWT_ISSUER":                     {"JWT_ISSUER", ""},
		"TABLESTORE_ENDPOINT":            {"TABLESTORE_ENDPOINT", ""},
		"FC_ACCOUNT_ID":                  {"FC_ACCOUNT_ID", "12"},
		"exactly one of JWKS_URL":        {"JWKS_FILE", "/etc/jwks.json"},
		"PAGE_TOKEN_KEY is required":     {"PAGE_TOKEN_KEY", ""},
		"PAGE_TOKEN_KEY is 5 characters": {"PAGE_TOKEN_KEY", "short"},
	} {
		m := map[string]string{}
		for k, v := range fc {
			m[k] = v
		}
		m[change[0]] = change[1]
		_, err := Load(env(m))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v should name %s", change[0], change[1], err, name)
		}
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	for k, v := range map[string]string{
		"PORT": "http", "OWNER_ACCOUNT_ID": "abc", "STORE": "redis", "DIRECTORY": "ldap",
		"ROLE_CACHE_TTL": "soon", "ACCOUNTS_CACHE_TTL": "-1s", "LOG_LEVEL": "loud", "SIM_MAX_ACCOUNTS": "0", "SIM_MAX_PENDING_INVITATIONS": "-1",
		"NEW_USER_ACCESS": "operator", "SASE_ADMINISTRATORS": "1000000000000001:2000000000000001,1000000000000001",
	} {
		_, err := Load(env(map[string]string{k: v}))
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: error %v should name the variable", k, v, err)
		}
	}
}

func TestPeople(t *testing.T) {
	c, err := Load(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.NewUserAccess != role.NoAccess || c.Administrators != nil || c.JWT.UserClaim != "uid" || c.JWT.AccountClaim != "aid" {
		t.Fatalf("defaults: access %q, administrators %v, claims %q/%q", c.NewUserAccess, c.Administrators, c.JWT.AccountClaim, c.JWT.UserClaim)
	}
	c, err = Load(env(map[string]string{"NEW_USER_ACCESS": "Viewer", "SASE_ADMINISTRATORS": " 1000000000000001:2000000000000001 , ,1000000000000002:7"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []role.Person{{AccountID: "1000000000000001", UserID: "2000000000000001"}, {AccountID: "1000000000000002", UserID: "7"}}
	if c.NewUserAccess != role.Viewer || !slices.Equal(c.Administrators, want) {
		t.Fatalf("access %q, administrators %v", c.NewUserAccess, c.Administrators)
	}
}

// README's configuration table is rendered from Vars.
func TestREADME(t *testing.T) {
	doctest.Section(t, "../../README.md", "shared/config.Vars", Markdown(Vars))
}

func TestSimConditions(t *testing.T) {
	vars := map[string]string{
		"SIM_OWNER_CONDITIONS":  " MissingSecureMobilePhone ,EnterpriseRealNameVerificationError",
		"SIM_TARGET_CONDITIONS": "2000000000000009=LegalEntityMismatch, bob@example.com = Invalid.AccountType",
	}
	c, err := Load(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SimOwnerConditions) != 2 || c.SimOwnerConditions[0] != "MissingSecureMobilePhone" {
		t.Fatalf("owner conditions %v", c.SimOwnerConditions)
	}
	if c.SimTargetConditions["2000000000000009"] != "LegalEntityMismatch" || c.SimTargetConditions["bob@example.com"] != "Invalid.AccountType" {
		t.Fatalf("target conditions %v", c.SimTargetConditions)
	}
	for name, bad := range map[string]string{
		"SIM_OWNER_CONDITIONS":  "Unverified",
		"SIM_TARGET_CONDITIONS": "2000000000000009",
	} {
		_, err := Load(func(k string) string {
			if k == name {
				return bad
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v should name the variable", name, bad, err)
		}
	}
	if _, err := Load(func(k string) string {
		if k == "SIM_TARGET_CONDITIONS" {
			return "2000000000000009=Nope"
		}
		return ""
	}); err == nil {
		t.Error("an unknown target code must be refused")
	}
}

// Two defaults are the adapters' own; README must name the same.
func TestDefaultsAreTheAdapters(t *testing.T) {
	for _, v := range Vars {
		switch v.Name {
		case "TABLESTORE_TABLE_PREFIX":
			if v.Default != tablestore.DefaultTablePrefix {
				t.Errorf("TABLESTORE_TABLE_PREFIX defaults to %q, the adapter to %q", v.Default, tablestore.DefaultTablePrefix)
			}
		case "RD_ENDPOINT":
			if !strings.Contains(v.Unset, "`"+resourcemanager.DefaultEndpoint+"`") {
				t.Errorf("RD_ENDPOINT's default reads %q, the adapter's is %q", v.Unset, resourcemanager.DefaultEndpoint)
			}
		}
	}
}
