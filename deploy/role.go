package deploy

import (
	"fmt"
	"strings"
)

// RoleValues are what the function role's policy depends on.
type RoleValues struct {
	Prefix      string // function prefix (SASE_FUNCTION_PREFIX), names the role and policy
	Region      string // the deployment's region
	AccountID   string // the deploying account
	Instance    string // Tablestore instance (TABLESTORE_INSTANCE)
	TablePrefix string // TABLESTORE_TABLE_PREFIX
}

// RoleSpec is the function role as template.yaml defines it, for given
// values: the same role for `make deploy` (scripts/deploy ensure-role) and
// for ROS.
type RoleSpec struct {
	RoleName   string
	PolicyName string
	Trust      any    // AssumeRolePolicyDocument
	Policy     Policy // the inline policy
}

// FunctionRoleSpec evaluates template.yaml's function role for v.
func FunctionRoleSpec(root string, v RoleValues) (RoleSpec, error) {
	t, err := LoadTemplate(root + "/template.yaml")
	if err != nil {
		return RoleSpec{}, err
	}
	params := map[string]string{
		"FunctionPrefix": v.Prefix, "TablestoreInstanceName": strings.ToLower(v.Instance), "TablePrefix": v.TablePrefix,
		// Not used by the role; required by the template.
		"CodeBucket": "-", "JwtIssuer": "-", "JwtAudience": "-", "PageTokenKey": strings.Repeat("-", 32),
	}
	e, err := t.Evaluate(params, Pseudo{Region: v.Region, AccountID: v.AccountID, StackName: "sase"})
	if err != nil {
		return RoleSpec{}, err
	}
	role, pols, err := e.FunctionRole()
	if err != nil {
		return RoleSpec{}, err
	}
	if len(pols) != 1 {
		return RoleSpec{}, fmt.Errorf("role %s has %d policies, want 1", role, len(pols))
	}
	res, err := e.Resources()
	if err != nil {
		return RoleSpec{}, err
	}
	spec := RoleSpec{RoleName: GetString(res[role].Properties, "RoleName"), Trust: res[role].Properties["AssumeRolePolicyDocument"]}
	for name, p := range pols {
		spec.PolicyName, spec.Policy = name, p
	}
	return spec, nil
}
