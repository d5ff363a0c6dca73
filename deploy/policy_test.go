package deploy

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// The function role's policy must name exactly the Resource Directory and
// Tablestore actions the adapters call, found in their source: a new SDK
// call in an adapter fails this test until the policy grants it.

// sdkActions are the API actions of an SDK client type: its methods that
// return (*<Name>Response, error).
func sdkActions(client any) map[string]bool {
	out := map[string]bool{}
	typ := reflect.TypeOf(client)
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if m.Type.NumOut() != 2 {
			continue
		}
		r := m.Type.Out(0)
		if r.Kind() == reflect.Pointer && r.Elem().Name() == m.Name+"Response" {
			out[m.Name] = true
		}
	}
	return out
}

// calledActions parses the non-test Go files of one package folder and
// returns the SDK actions it calls: <pkg>.Create<Action>Request() of the SDK
// package imported from importPath, and X.<Action>(...) where X is a
// variable, parameter or field of type *<pkg>.<clientType> (or assigned
// from a function of the package returning one). The receiver must be of
// the client type: builders such as TableMeta.AddDefinedColumn share names
// with API actions.
func calledActions(t *testing.T, dir, importPath, clientType string, actions map[string]bool) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	type parsed struct {
		file  *ast.File
		alias string
	}
	var files []parsed
	for _, f := range paths {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		alias := ""
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == importPath {
				alias = filepath.Base(p)
				if imp.Name != nil {
					alias = imp.Name.Name
				}
			}
		}
		files = append(files, parsed{file, alias})
	}
	isClient := func(e ast.Expr, alias string) bool {
		if st, ok := e.(*ast.StarExpr); ok {
			e = st.X
		}
		sel, ok := e.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != clientType {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == alias && alias != ""
	}
	// Names of client-typed fields, parameters and variables, and the
	// result positions of functions that return a client.
	names := map[string]bool{}
	returns := map[string][]int{}
	for _, pf := range files {
		ast.Inspect(pf.file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.Field:
				if isClient(x.Type, pf.alias) {
					for _, id := range x.Names {
						names[id.Name] = true
					}
				}
			case *ast.ValueSpec:
				if x.Type != nil && isClient(x.Type, pf.alias) {
					for _, id := range x.Names {
						names[id.Name] = true
					}
				}
			case *ast.FuncDecl:
				if x.Type.Results != nil {
					i := 0
					for _, r := range x.Type.Results.List {
						k := max(1, len(r.Names))
						if isClient(r.Type, pf.alias) {
							returns[x.Name.Name] = append(returns[x.Name.Name], i)
						}
						i += k
					}
				}
			}
			return true
		})
	}
	for _, pf := range files {
		ast.Inspect(pf.file, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Rhs) != 1 {
				return true
			}
			call, ok := as.Rhs[0].(*ast.CallExpr)
			if !ok {
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				if id, ok := f.X.(*ast.Ident); ok && id.Name == pf.alias && strings.HasPrefix(f.Sel.Name, "New") {
					names[identName(as.Lhs[0])] = true
				}
			}
			for _, i := range returns[fn] {
				if i < len(as.Lhs) {
					names[identName(as.Lhs[i])] = true
				}
			}
			return true
		})
	}
	delete(names, "")
	delete(names, "_")

	found := map[string]bool{}
	for _, pf := range files {
		if pf.alias == "" {
			continue
		}
		ast.Inspect(pf.file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			name := sel.Sel.Name
			switch x := sel.X.(type) {
			case *ast.Ident:
				if x.Name == pf.alias {
					if a, ok := strings.CutPrefix(name, "Create"); ok {
						if a, ok = strings.CutSuffix(a, "Request"); ok && actions[a] {
							found[a] = true
						}
					}
				} else if names[x.Name] && actions[name] {
					found[name] = true
				}
			case *ast.SelectorExpr:
				if names[x.Sel.Name] && actions[name] {
					found[name] = true
				}
			}
			return true
		})
	}
	out := make([]string, 0, len(found))
	for a := range found {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func identName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	if sel, ok := e.(*ast.SelectorExpr); ok {
		return sel.Sel.Name
	}
	return ""
}

// tableAdminActions are the Tablestore actions that manage tables rather
// than rows: the operator's (scripts, ROS), never the function role's.
var tableAdminActions = map[string]bool{
	"CreateTable": true, "DeleteTable": true, "UpdateTable": true, "DescribeTable": true, "ListTable": true,
	"CreateIndex": true, "DeleteIndex": true, "CreateSearchIndex": true, "DeleteSearchIndex": true, "UpdateSearchIndex": true,
}

func TestFunctionRolePolicyIsLeastPrivilege(t *testing.T) {
	r := root(t)
	rdCalled := calledActions(t, filepath.Join(r, "shared/adapter/resourcemanager"),
		"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager", "Client", sdkActions(&rm.Client{}))
	otsAll := calledActions(t, filepath.Join(r, "shared/adapter/tablestore"),
		"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore", "TableStoreClient", sdkActions(&ots.TableStoreClient{}))
	var otsData, otsAdmin []string
	for _, a := range otsAll {
		if tableAdminActions[a] {
			otsAdmin = append(otsAdmin, a)
		} else {
			otsData = append(otsData, a)
		}
	}
	if len(rdCalled) < 5 || len(otsData) < 5 {
		t.Fatalf("the source scan found too little (RD %v, Tablestore %v): has the adapter moved?", rdCalled, otsData)
	}
	t.Logf("RD actions called: %v", rdCalled)
	t.Logf("Tablestore row actions called: %v; table actions (operator only): %v", otsData, otsAdmin)

	e, _ := evaluate(t, rosParams())
	role, policies, err := e.FunctionRole()
	if err != nil {
		t.Fatal(err)
	}
	if len(policies) != 1 {
		t.Fatalf("role %s has %d inline policies, want 1", role, len(policies))
	}
	for name, p := range policies {
		if p.Version != "1" {
			t.Errorf("policy %s: Version %q", name, p.Version)
		}
		if got := p.Actions("resourcemanager"); !slices.Equal(got, rdCalled) {
			t.Errorf("policy %s grants resourcemanager %v; the RD adapter calls exactly %v", name, got, rdCalled)
		}
		if got := p.Actions("ots"); !slices.Equal(got, otsData) {
			t.Errorf("policy %s grants ots %v; the store adapter's row actions are exactly %v", name, got, otsData)
		}
		for _, s := range p.Statement {
			if s.Effect != "Allow" {
				t.Errorf("policy %s: unexpected effect %s", name, s.Effect)
			}
			for _, a := range s.Action {
				svc, act, _ := strings.Cut(a, ":")
				if strings.Contains(act, "*") || (svc != "ots" && svc != "resourcemanager") {
					t.Errorf("policy %s: action %q is broader than the code needs", name, a)
				}
			}
			switch svc, _, _ := strings.Cut(s.Action[0], ":"); svc {
			case "ots":
				want := []string{"acs:ots:cn-hangzhou:" + testAccount + ":instance/sase-test/table/sase_*"}
				if !slices.Equal(s.Resource, want) {
					t.Errorf("policy %s: Tablestore resources %v, want this deployment's tables only %v", name, s.Resource, want)
				}
			case "resourcemanager":
				// RD ARNs name the directory, which enable-directory
				// creates: the RD actions cannot be narrowed by resource
				// before deployment (docs/DEPLOY.md).
				if !slices.Equal(s.Resource, []string{"*"}) {
					t.Errorf("policy %s: RD resources %v", name, s.Resource)
				}
			}
		}
	}
	trust, err := e.TrustPolicy(role)
	if err != nil {
		t.Fatal(err)
	}
	if got := must(Get(trust, "Statement", 0, "Principal", "Service")); !reflect.DeepEqual(got, []any{"fc.aliyuncs.com"}) {
		t.Errorf("role %s is trusted by %v, want Function Compute only", role, got)
	}

	// The deploy guide tells the operator which table actions they need.
	guide, err := os.ReadFile(filepath.Join(r, "docs/DEPLOY.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range append(append([]string{}, otsAdmin...), "PassRole") {
		if !strings.Contains(string(guide), a) {
			t.Errorf("docs/DEPLOY.md does not mention %s, which the operator needs", a)
		}
	}
}

// Table management stays out of the request path: the functions' role has
// no table actions, so only scripts (operator credentials) may call
// EnsureTables.
func TestTablesAreCreatedOutsideTheFunctions(t *testing.T) {
	r := root(t)
	err := filepath.WalkDir(r, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || rel == "dist" || rel == "scripts" || rel == "deploy" || rel == filepath.Join("shared", "adapter", "tablestore") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "EnsureTables(") {
			t.Errorf("%s calls EnsureTables: the function role has no table permissions (only scripts/ may)", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The template's tables are the store adapter's schema: created in a
// wire-level Tablestore fake from template.yaml, EnsureTables finds nothing
// to create or change, and no template table is unknown to it.
func TestTemplateTablesMatchTheStoreSchema(t *testing.T) {
	e, res := evaluate(t, rosParams())
	fake := otsfake.New(otsfake.Options{Instance: "sase-test"})
	defer fake.Close()
	creds := cloudcreds.Credentials{AccessKeyID: "operator-key", AccessKeySecret: "operator-secret"}
	fake.AddCredentials(creds.AccessKeyID, creds.AccessKeySecret, "")
	cfg := ots.NewDefaultTableStoreConfig()
	cfg.RetryTimes = 0
	client := ots.NewClientWithConfig(fake.URL(), fake.Instance(), creds.AccessKeyID, creds.AccessKeySecret, "", cfg)

	var tables []string
	for _, r := range res {
		if r.Type != "ALIYUN::OTS::Table" {
			continue
		}
		if r.Properties["InstanceName"] != "<TablestoreInstance.InstanceName>" {
			t.Errorf("%s: InstanceName %v, want the template's instance", r.Name, r.Properties["InstanceName"])
		}
		req, err := createTableRequest(r.Properties)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		if _, err := client.CreateTable(req); err != nil {
			t.Fatalf("%s: CreateTable: %v", r.Name, err)
		}
		tables = append(tables, req.TableMeta.TableName)
	}
	fake.ResetCounts()
	var logs []string
	err := tablestore.EnsureTables(context.Background(), tablestore.Config{
		Endpoint: fake.URL(), Instance: fake.Instance(), TablePrefix: e.Param("TablePrefix"), Credentials: cloudcreds.Static(creds), RetryTimes: -1,
		Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) },
	})
	if err != nil {
		t.Fatalf("EnsureTables on the template's tables: %v", err)
	}
	if n := fake.Count("CreateTable") + fake.Count("UpdateTable"); n != 0 {
		t.Errorf("EnsureTables created or changed %d tables: the template lacks or differs from the adapter's schema (%v)", n, logs)
	}
	if n := fake.Count("DescribeTable"); n != len(tables) {
		t.Errorf("the template creates %d tables %v; the adapter knows %d", len(tables), tables, n)
	}
}

// createTableRequest turns ALIYUN::OTS::Table properties into the SDK
// request ROS would send.
func createTableRequest(p map[string]any) (*ots.CreateTableRequest, error) {
	meta := &ots.TableMeta{TableName: GetString(p, "TableName")}
	pkType := map[string]ots.PrimaryKeyType{"STRING": ots.PrimaryKeyType_STRING, "INTEGER": ots.PrimaryKeyType_INTEGER, "BINARY": ots.PrimaryKeyType_BINARY}
	colType := map[string]ots.DefinedColumnType{"STRING": ots.DefinedColumn_STRING, "INTEGER": ots.DefinedColumn_INTEGER,
		"DOUBLE": ots.DefinedColumn_DOUBLE, "BOOLEAN": ots.DefinedColumn_BOOLEAN, "BINARY": ots.DefinedColumn_BINARY}
	pks, _ := p["PrimaryKey"].([]any)
	for _, k := range pks {
		typ, ok := pkType[GetString(k, "Type")]
		if !ok {
			return nil, errorf("primary key type %q", GetString(k, "Type"))
		}
		meta.AddPrimaryKeyColumn(GetString(k, "Name"), typ)
	}
	cols, _ := p["Columns"].([]any)
	for _, c := range cols {
		typ, ok := colType[GetString(c, "Type")]
		if !ok {
			return nil, errorf("column type %q", GetString(c, "Type"))
		}
		meta.AddDefinedColumn(GetString(c, "Name"), typ)
	}
	ttl, _ := p["TimeToLive"].(int)
	mv, _ := p["MaxVersions"].(int)
	req := &ots.CreateTableRequest{
		TableMeta:          meta,
		TableOption:        &ots.TableOption{TimeToAlive: ttl, MaxVersion: mv},
		ReservedThroughput: &ots.ReservedThroughput{},
	}
	idx, _ := p["SecondaryIndices"].([]any)
	for _, x := range idx {
		im := &ots.IndexMeta{IndexName: GetString(x, "IndexName")}
		switch GetString(x, "IndexType") {
		case "Local":
			im.IndexType = ots.IT_LOCAL_INDEX
		case "Global":
			im.IndexType = ots.IT_GLOBAL_INDEX
		default:
			return nil, errorf("index type %q", GetString(x, "IndexType"))
		}
		pk, _ := Get(x, "PrimaryKeys")
		for _, k := range pk.([]any) {
			im.AddPrimaryKeyColumn(k.(string))
		}
		dc, _ := Get(x, "Columns")
		for _, c := range dc.([]any) {
			im.AddDefinedColumn(c.(string))
		}
		req.AddIndexMeta(im)
	}
	return req, nil
}

func errorf(format string, args ...any) error { return fmt.Errorf("unsupported "+format, args...) }

// envReads lists the environment variable names the code reads: the
// variables of config.Vars (config.Read reads them, and a variable's FromFC
// in FC), string literals passed to getenv in shared/config, and to
// os.Getenv or os.LookupEnv anywhere in shared/ and functions/ (tests
// excluded).
func envReads(t *testing.T) []string {
	t.Helper()
	r := root(t)
	found := map[string]bool{}
	for _, top := range []string{"shared", "functions"} {
		err := filepath.WalkDir(filepath.Join(r, top), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			inConfig := filepath.Base(filepath.Dir(path)) == "config"
			ast.Inspect(file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				name, _ := strconv.Unquote(lit.Value)
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					if inConfig && fn.Name == "getenv" {
						found[name] = true
					}
				case *ast.SelectorExpr:
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "os" && (fn.Sel.Name == "Getenv" || fn.Sel.Name == "LookupEnv") {
						found[name] = true
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !found["FC_RUNTIME_API"] || !found["ALIBABA_CLOUD_ACCESS_KEY_ID"] {
		t.Fatalf("the scan of environment reads found %v: has the configuration moved?", found)
	}
	for _, v := range config.Vars {
		found[v.Name] = true
		if v.FromFC != "" {
			found[v.FromFC] = true
		}
	}
	out := make([]string, 0, len(found))
	for k := range found {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The scan finds request constructors and client calls, not look-alikes.
func TestCalledActionsScan(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.go"), `package a

import (
	rd "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

type store struct{ client *ots.TableStoreClient }

func newClient() (*ots.TableStoreClient, int) { return nil, 0 }

func (s *store) f(meta *ots.TableMeta) {
	_ = rd.CreateMoveAccountRequest()
	_, _ = s.client.GetRow(nil)
	c, _ := newClient()
	_, _ = c.ListTable()
	meta.AddDefinedColumn("x", ots.DefinedColumn_STRING) // a builder, not the AddDefinedColumn API
}

func g(rc *rd.Client) { _, _ = rc.GetAccount(nil) }
`)
	writeFile(t, filepath.Join(dir, "a_test.go"), "package a\n\nfunc h(s *store) { _, _ = s.client.DeleteRow(nil) }\n")
	rdGot := calledActions(t, dir, "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager", "Client", sdkActions(&rm.Client{}))
	otsGot := calledActions(t, dir, "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore", "TableStoreClient", sdkActions(&ots.TableStoreClient{}))
	if !slices.Equal(rdGot, []string{"GetAccount", "MoveAccount"}) {
		t.Errorf("RD actions %v", rdGot)
	}
	if !slices.Equal(otsGot, []string{"GetRow", "ListTable"}) {
		t.Errorf("Tablestore actions %v", otsGot)
	}
}
