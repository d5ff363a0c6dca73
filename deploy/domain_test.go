package deploy

import (
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/endpoints"
)

// The console's custom domain: s.domain.yaml (make deploy) and the
// ConsoleDomain of template.yaml (ROS) route the same paths to the same
// functions with the same methods, over HTTPS, and ROS creates the console
// only together with its domain and certificate.

// wantRoutes maps each path of the domain to the function it reaches:
// /<function-name> to every HTTP function, every other path to the console.
func wantRoutes(d deployment) map[string]string {
	want := map[string]string{}
	for _, f := range d.fns {
		switch {
		case isConsole(f.Name):
			want["/*"] = f.Name
		case f.Kind == HTTP:
			want["/"+f.Name] = f.Name
		}
	}
	return want
}

// routeFunction is the function a route path names (the console for /*).
func routeFunction(path string) string {
	if path == "/*" {
		return endpoints.Console.Name()
	}
	return strings.TrimPrefix(path, "/")
}

func TestCustomDomainRoutes(t *testing.T) {
	d := loadDeployment(t)
	env := operatorEnv()
	env["SASE_CUSTOM_DOMAIN"] = testDomain
	env["SASE_CUSTOM_DOMAIN_CERT"] = "certs/console.pem"
	env["SASE_CUSTOM_DOMAIN_KEY"] = "certs/console.key"
	s := loadSpec(t, "s.domain.yaml", env)
	res := s.Resources()
	if len(res) != 1 {
		t.Fatalf("s.domain.yaml has %d resources, want the domain only", len(res))
	}
	for name, r := range res {
		if r["component"] != "fc3-domain" {
			t.Errorf("%s: component %v, want fc3-domain", name, r["component"])
		}
		p := r["props"]
		if GetString(p, "domainName") != testDomain || GetString(p, "region") != "cn-hangzhou" {
			t.Errorf("%s: props %v", name, p)
		}
		if got := GetString(p, "protocol"); got != "HTTPS" {
			t.Errorf("%s: protocol %q by default, want HTTPS (the sign-in needs a secure page)", name, got)
		}
		wantCert := map[string]any{"certName": "sase-console", "certificate": "certs/console.pem", "privateKey": "certs/console.key"}
		if got, _ := Get(p, "certConfig"); !reflect.DeepEqual(got, wantCert) {
			t.Errorf("%s: certConfig %v, want %v", name, got, wantCert)
		}
		routes, _ := Get(p, "routeConfig", "routes")
		got := map[string]string{}
		for _, rt := range routes.([]any) {
			path := GetString(rt, "path")
			got[path] = strings.TrimPrefix(GetString(rt, "functionName"), "sase-")
			if m, _ := Get(rt, "methods"); !reflect.DeepEqual(m, triggerMethods(routeFunction(path))) {
				t.Errorf("route %s: methods %v, want the trigger's %v", path, m, triggerMethods(routeFunction(path)))
			}
			if GetString(rt, "qualifier") != "LATEST" {
				t.Errorf("route %s: qualifier %q", path, GetString(rt, "qualifier"))
			}
		}
		if want := wantRoutes(d); !maps.Equal(got, want) {
			t.Errorf("routes = %v, want /<function-name> -> <prefix><function-name> for every HTTP function and /* for the console: %v", got, want)
		}
	}
}

func TestROSCustomDomain(t *testing.T) {
	d := loadDeployment(t)
	e, res := evaluate(t, rosParams())
	dom, ok := res["ConsoleDomain"]
	if !ok || dom.Type != "ALIYUN::FC3::CustomDomain" {
		t.Fatalf("template.yaml has no ALIYUN::FC3::CustomDomain ConsoleDomain: %+v", dom)
	}
	p := dom.Properties
	wantProps := map[string]any{
		"DomainName": testDomain,
		"Protocol":   "HTTPS",
		"AuthConfig": map[string]any{"AuthType": "anonymous"},
		"CertConfig": map[string]any{"CertName": "sase-console",
			"Certificate": rosParams()["CustomDomainCertificate"], "PrivateKey": rosParams()["CustomDomainPrivateKey"]},
	}
	for k, want := range wantProps {
		if !reflect.DeepEqual(p[k], want) {
			t.Errorf("ConsoleDomain %s = %#v, want %#v", k, p[k], want)
		}
	}
	routes, _ := Get(p, "RouteConfig", "Routes")
	got := map[string]string{}
	for _, rt := range routes.([]any) {
		path := GetString(rt, "Path")
		fn := GetString(rt, "FunctionName")
		got[path] = routeFunction(path)
		if want := "<" + LogicalID(routeFunction(path)) + "Function.FunctionName>"; fn != want {
			t.Errorf("route %s: FunctionName %s, want %s", path, fn, want)
		}
		if m, _ := Get(rt, "Methods"); !reflect.DeepEqual(m, triggerMethods(routeFunction(path))) {
			t.Errorf("route %s: Methods %v, want the trigger's %v", path, m, triggerMethods(routeFunction(path)))
		}
		if GetString(rt, "Qualifier") != "LATEST" {
			t.Errorf("route %s: Qualifier %q", path, GetString(rt, "Qualifier"))
		}
	}
	if want := wantRoutes(d); !maps.Equal(got, want) {
		t.Errorf("ConsoleDomain routes %v, want %v", got, want)
	}
	outputs, err := e.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	if got := outputs["ConsoleUrl"]; got != "https://<ConsoleDomain.DomainName>/" {
		t.Errorf("output ConsoleUrl = %v, want the custom domain's https URL", got)
	}
}

// TestROSWithoutDomainDeploysTheAPIOnly: no domain, no console (its page
// would download); every other function and its trigger URL remain. A
// domain without its certificate is refused before anything is created.
func TestROSWithoutDomainDeploysTheAPIOnly(t *testing.T) {
	d := loadDeployment(t)
	p := rosParams()
	for _, k := range []string{"CustomDomainName", "CustomDomainCertificate", "CustomDomainPrivateKey"} {
		delete(p, k)
	}
	e, res := evaluate(t, p)
	for _, name := range []string{"ConsoleFunction", "ConsoleHttpTrigger", "ConsoleDomain"} {
		if _, ok := res[name]; ok {
			t.Errorf("%s is created without a custom domain", name)
		}
	}
	outputs, err := e.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := outputs["ConsoleUrl"]; ok {
		t.Error("output ConsoleUrl without a console")
	}
	for _, f := range d.fns {
		if isConsole(f.Name) {
			continue
		}
		if _, ok := res[LogicalID(f.Name)+"Function"]; !ok {
			t.Errorf("%s is not created without a custom domain", f.Name)
		}
		if _, ok := outputs[LogicalID(f.Name)+"Url"]; f.Kind == HTTP && !ok {
			t.Errorf("no output %sUrl: the API must stay usable without a domain", LogicalID(f.Name))
		}
	}

	tpl, err := LoadTemplate(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for missing, want := range map[string]string{
		"CustomDomainCertificate": "CustomDomainName needs CustomDomainCertificate",
		"CustomDomainPrivateKey":  "CustomDomainCertificate needs CustomDomainPrivateKey",
	} {
		p := rosParams()
		delete(p, missing)
		if _, err := tpl.Evaluate(p, rosPseudo); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("without %s: %v, want the rule to say %q", missing, err, want)
		}
	}
	p = rosParams()
	p["CustomDomainName"] = "https://" + testDomain + "/"
	if _, err := tpl.Evaluate(p, rosPseudo); err == nil || !strings.Contains(err.Error(), "CustomDomainName") {
		t.Errorf("a URL passed as CustomDomainName: %v", err)
	}
}
