package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/deploy"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

// testDomain is the console's custom domain in these tests.
const testDomain = "console.example.com"

type pemPair struct{ cert, key string }

// makeCert makes a self-signed certificate for host, valid from notBefore
// to notAfter, and its key, as PEM.
func makeCert(host string, notBefore, notAfter time.Time) (pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pemPair{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return pemPair{}, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return pemPair{}, err
	}
	return pemPair{cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))}, nil
}

func newCert(t *testing.T, host string, notBefore, notAfter time.Time) pemPair {
	t.Helper()
	p, err := makeCert(host, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// consoleCert is a certificate of testDomain valid from a day ago for a
// year.
var consoleCert = sync.OnceValue(func() pemPair {
	now := time.Now()
	p, err := makeCert(testDomain, now.Add(-24*time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		panic(err)
	}
	return p
})

// aliyunEnv is baseEnv signing in with Alibaba Cloud OAuth's China site,
// as docs/DEPLOY.md sets it up.
func aliyunEnv() map[string]string {
	env := baseEnv()
	env["JWT_ISSUER"] = "https://oauth.aliyun.com"
	env["JWT_AUDIENCE"] = "4567890123456789012"
	env["JWKS_URL"] = "https://oauth.aliyun.com/v1/keys"
	env["OIDC_CLIENT_SECRET"] = "app-secret"
	return env
}

// TestCheckRefusesConfigurationsThatCannotWork: each configuration below
// deploys but cannot work; make deploy-check refuses it and says why.
func TestCheckRefusesConfigurationsThatCannotWork(t *testing.T) {
	now := time.Now()
	other := newCert(t, "other.example.com", now.Add(-time.Hour), now.Add(time.Hour))
	expired := newCert(t, testDomain, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	intl := "https://oauth.alibabacloud.com"
	for name, tc := range map[string]struct {
		mod  func(map[string]string)
		want string
	}{
		"console without domain": {func(e map[string]string) { delete(e, "SASE_CUSTOM_DOMAIN") }, "the console needs a custom domain: FC's own trigger domain"},
		"skip with domain":       {func(e map[string]string) { e["SASE_SKIP_CONSOLE"] = "true" }, "SASE_SKIP_CONSOLE with SASE_CUSTOM_DOMAIN"},
		"skip not a boolean":     {func(e map[string]string) { e["SASE_SKIP_CONSOLE"] = "maybe" }, `SASE_SKIP_CONSOLE "maybe" must be true or false`},
		"domain as URL":          {func(e map[string]string) { e["SASE_CUSTOM_DOMAIN"] = "https://" + testDomain }, "is not a domain name"},
		"HTTP only":              {func(e map[string]string) { e["SASE_CUSTOM_DOMAIN_PROTOCOL"] = "HTTP" }, "must be HTTPS or HTTP,HTTPS: the console signs in over HTTPS only"},
		"no certificate":         {func(e map[string]string) { delete(e, "SASE_CUSTOM_DOMAIN_CERT") }, "SASE_CUSTOM_DOMAIN needs SASE_CUSTOM_DOMAIN_CERT and SASE_CUSTOM_DOMAIN_KEY"},
		"certificate file gone":  {func(e map[string]string) { e["SASE_CUSTOM_DOMAIN_CERT"] = "certs/nowhere.pem" }, "SASE_CUSTOM_DOMAIN_CERT: read the PEM file"},
		"certificate of another": {func(e map[string]string) {
			e["SASE_CUSTOM_DOMAIN_CERT"], e["SASE_CUSTOM_DOMAIN_KEY"] = other.cert, other.key
		}, "does not cover " + testDomain},
		"key of another": {func(e map[string]string) { e["SASE_CUSTOM_DOMAIN_KEY"] = other.key }, "are not a certificate and its key"},
		"expired certificate": {func(e map[string]string) {
			e["SASE_CUSTOM_DOMAIN_CERT"], e["SASE_CUSTOM_DOMAIN_KEY"] = expired.cert, expired.key
		}, "SASE_CUSTOM_DOMAIN_CERT is valid from"},
		"redirect to the trigger": {func(e map[string]string) { e["OIDC_REDIRECT_URI"] = "https://sase-console-abc.cn-hangzhou.fcapp.run/" },
			"is not the console's URL https://" + testDomain + "/"},
		"redirect without slash": {func(e map[string]string) { e["OIDC_REDIRECT_URI"] = "https://" + testDomain }, "is not the console's URL"},
		"account claim a scope":  {func(e map[string]string) { e["JWT_ACCOUNT_CLAIM"] = "aliuid" }, "JWT_ACCOUNT_CLAIM=aliuid names an OAuth scope, not a claim"},
		"user claim a scope":     {func(e map[string]string) { e["JWT_USER_CLAIM"] = "profile" }, "JWT_USER_CLAIM=profile names an OAuth scope, not a claim"},
		"China issuer, international keys": {func(e map[string]string) { e["JWKS_URL"] = intl + "/v1/keys" },
			"holds the keys of Alibaba Cloud's international (alibabacloud.com) site, which do not sign the tokens of JWT_ISSUER \"https://oauth.aliyun.com\""},
		"international issuer, China keys": {func(e map[string]string) { e["JWT_ISSUER"] = intl },
			"holds the keys of Alibaba Cloud's China (aliyun.com) site, which do not sign the tokens of JWT_ISSUER \"https://oauth.alibabacloud.com\""},
		"issuer is the sign-in page": {func(e map[string]string) { e["JWT_ISSUER"] = "https://signin.aliyun.com" }, "is the sign-in page of Alibaba Cloud's China (aliyun.com) site"},
		"issuer with a slash":        {func(e map[string]string) { e["JWT_ISSUER"] = "https://oauth.aliyun.com/" }, `carry iss "https://oauth.aliyun.com", compared exactly`},
		"keys elsewhere":             {func(e map[string]string) { e["JWKS_URL"] = "https://login.example.com/jwks.json" }, "whose keys are at https://oauth.aliyun.com/v1/keys"},
		"keys at a wrong path":       {func(e map[string]string) { e["JWKS_URL"] = "https://oauth.aliyun.com/.well-known/jwks.json" }, "jwks_uri of https://oauth.aliyun.com/.well-known/openid-configuration"},
		"static keys that rotate": {func(e map[string]string) { delete(e, "JWKS_URL"); e["JWKS_JSON"] = `{"keys":[{"kty":"RSA"}]}` },
			"JWKS_JSON is a static copy of keys Alibaba Cloud rotates"},
		"trigger JWT with rotating keys": {func(e map[string]string) {
			delete(e, "JWKS_URL")
			e["JWKS_JSON"], e["SASE_TRIGGER_AUTH"] = `{"keys":[{"kty":"RSA"}]}`, "jwt"
		}, "SASE_TRIGGER_AUTH=jwt with Alibaba Cloud OAuth: the trigger holds one static key"},
		"no aliuid scope": {func(e map[string]string) { e["OIDC_SCOPES"] = "openid profile" }, `OIDC_SCOPES "openid profile" lacks aliuid`},
	} {
		t.Run(name, func(t *testing.T) {
			env := aliyunEnv()
			tc.mod(env)
			h := newHarness(t, env)
			if code := h.main("check"); code != 1 || !strings.Contains(h.stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to say %q", code, h.stderr.String(), tc.want)
			}
		})
	}
}

// TestCheckAcceptsWorkingConfigurations: both Alibaba Cloud sites with the
// console on its domain, the certificate as files, and the API alone.
func TestCheckAcceptsWorkingConfigurations(t *testing.T) {
	files := func(h *harness, env map[string]string) {
		dir := filepath.Join(h.tool.root, "certs")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"console.pem": consoleCert().cert, "console.key": consoleCert().key} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		env["SASE_CUSTOM_DOMAIN_CERT"], env["SASE_CUSTOM_DOMAIN_KEY"] = "certs/console.pem", filepath.Join(dir, "console.key")
	}
	for name, tc := range map[string]struct {
		mod   func(*harness, map[string]string)
		wants []string
	}{
		"China site": {nil, []string{"console https://" + testDomain + "/ (HTTPS)", "ICP filing"}},
		"international site, Singapore": {func(_ *harness, e map[string]string) {
			e["JWT_ISSUER"], e["JWKS_URL"], e["SASE_REGION"] = "https://oauth.alibabacloud.com", "https://oauth.alibabacloud.com/v1/keys", "ap-southeast-1"
			e["OIDC_REDIRECT_URI"] = "https://" + testDomain + "/"
		}, []string{"CNAME to <account-id>.ap-southeast-1.fc.aliyuncs.com\n"}},
		"certificate files": {files, []string{"console https://" + testDomain + "/"}},
		"API only": {func(_ *harness, e map[string]string) {
			e["SASE_SKIP_CONSOLE"] = "true"
			for _, k := range []string{"SASE_CUSTOM_DOMAIN", "SASE_CUSTOM_DOMAIN_CERT", "SASE_CUSTOM_DOMAIN_KEY"} {
				delete(e, k)
			}
		}, []string{"console skipped (SASE_SKIP_CONSOLE)"}},
	} {
		t.Run(name, func(t *testing.T) {
			env := aliyunEnv()
			h := newHarness(t, env)
			if tc.mod != nil {
				tc.mod(h, env)
			}
			if code := h.main("check"); code != 0 {
				t.Fatalf("check: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
			}
			for _, want := range tc.wants {
				if !strings.Contains(h.stdout.String(), want) {
					t.Errorf("check printed:\n%s\nwant %q", h.stdout.String(), want)
				}
			}
		})
	}
}

// TestDeploySkipsTheConsole: with SASE_SKIP_CONSOLE every function but the
// console is deployed, one s deploy per resource, and no domain.
func TestDeploySkipsTheConsole(t *testing.T) {
	env := aliyunEnv()
	env["SASE_FUNCTION_ROLE_ARN"] = "acs:ram::" + account + ":role/my-role"
	env["SASE_SKIP_CONSOLE"] = "true"
	for _, k := range []string{"SASE_CUSTOM_DOMAIN", "SASE_CUSTOM_DOMAIN_CERT", "SASE_CUSTOM_DOMAIN_KEY"} {
		delete(env, k)
	}
	h := newHarness(t, env)
	if code := h.main("deploy", "--skip-tables"); code != 0 {
		t.Fatalf("deploy: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	fns, err := deploy.Functions(h.tool.root)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, f := range fns {
		if f.Name != endpoints.Console.Name() {
			want = append(want, "s "+f.Name+" deploy -y -t s.yaml")
		}
	}
	for _, c := range h.calls {
		got = append(got, c.name+" "+strings.Join(c.args, " "))
	}
	if !slices.Equal(got, want) {
		t.Errorf("deploy ran\n  %s\nwant every function but the console\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
