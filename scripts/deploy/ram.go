package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/sase-multiaccount/backend/deploy"
)

// ramOptions locate RAM and STS (the endpoints are overridden in tests) and
// carry the operator's credentials.
type ramOptions struct {
	ramEndpoint, stsEndpoint string
	accessKeyID, secret      string
	securityToken            string
}

// ramAPI is what ensure-role needs from RAM and STS.
type ramAPI interface {
	AccountID() (string, error)
	GetRole(name string) (arn, trust string, found bool, err error)
	CreateRole(name, trust, description string) (arn string, err error)
	UpdateRoleTrust(name, trust string) error
	GetPolicy(name string) (doc string, found bool, err error)
	CreatePolicy(name, doc, description string) error
	CreatePolicyVersion(name, doc string) error
	AttachPolicyToRole(policy, role string) error
}

// ensureRole makes the function role and its policy match template.yaml
// and returns the role's ARN. It is idempotent.
func (t *tool) ensureRole(ctx context.Context, s settings, o ramOptions) (string, error) {
	o.accessKeyID, o.secret, o.securityToken = t.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ""), t.env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ""), t.env("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	if o.accessKeyID == "" || o.secret == "" {
		return "", errors.New("ensure-role needs the operator's credentials in ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or set SASE_FUNCTION_ROLE_ARN to a role you manage)")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	api, err := t.ram(o)
	if err != nil {
		return "", err
	}
	account, err := api.AccountID()
	if err != nil {
		return "", fmt.Errorf("sts GetCallerIdentity: %w", err)
	}
	spec, err := deploy.FunctionRoleSpec(t.root, t.roleValues(s, account))
	if err != nil {
		return "", err
	}
	trustJSON, err := json.Marshal(spec.Trust)
	if err != nil {
		return "", err
	}
	policyJSON, err := json.Marshal(spec.Policy)
	if err != nil {
		return "", err
	}
	log := func(format string, args ...any) { fmt.Fprintf(t.stdout, format+"\n", args...) }

	arn, trust, found, err := api.GetRole(spec.RoleName)
	switch {
	case err != nil:
		return "", fmt.Errorf("ram GetRole %s: %w", spec.RoleName, err)
	case !found:
		if arn, err = api.CreateRole(spec.RoleName, string(trustJSON), "SASE multi-account management functions (scripts/deploy)"); err != nil {
			return "", fmt.Errorf("ram CreateRole %s: %w", spec.RoleName, err)
		}
		log("created role %s", spec.RoleName)
	case !sameJSON(trust, string(trustJSON)):
		if err := api.UpdateRoleTrust(spec.RoleName, string(trustJSON)); err != nil {
			return "", fmt.Errorf("ram UpdateRole %s: %w", spec.RoleName, err)
		}
		log("role %s: trust policy set to Function Compute only", spec.RoleName)
	default:
		log("role %s is up to date", spec.RoleName)
	}

	doc, found, err := api.GetPolicy(spec.PolicyName)
	switch {
	case err != nil:
		return "", fmt.Errorf("ram GetPolicy %s: %w", spec.PolicyName, err)
	case !found:
		if err := api.CreatePolicy(spec.PolicyName, string(policyJSON), "Least privilege of the SASE multi-account management functions"); err != nil {
			return "", fmt.Errorf("ram CreatePolicy %s: %w", spec.PolicyName, err)
		}
		log("created policy %s", spec.PolicyName)
	case !samePolicy(doc, spec.Policy):
		if err := api.CreatePolicyVersion(spec.PolicyName, string(policyJSON)); err != nil {
			return "", fmt.Errorf("ram CreatePolicyVersion %s: %w", spec.PolicyName, err)
		}
		log("policy %s: new default version", spec.PolicyName)
	default:
		log("policy %s is up to date", spec.PolicyName)
	}
	if err := api.AttachPolicyToRole(spec.PolicyName, spec.RoleName); err != nil {
		return "", fmt.Errorf("ram AttachPolicyToRole %s %s: %w", spec.PolicyName, spec.RoleName, err)
	}
	return arn, nil
}

func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

func samePolicy(doc string, want deploy.Policy) bool {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return false
	}
	got, err := deploy.ParsePolicy(v)
	return err == nil && reflect.DeepEqual(got, want)
}

// sdkRAM is ramAPI on alibaba-cloud-sdk-go.
type sdkRAM struct {
	ram *ram.Client
	sts *sts.Client
}

func newRAM(o ramOptions) (ramAPI, error) {
	var cred auth.Credential = credentials.NewAccessKeyCredential(o.accessKeyID, o.secret)
	if o.securityToken != "" {
		cred = credentials.NewStsTokenCredential(o.accessKeyID, o.secret, o.securityToken)
	}
	scheme := func(ep string) (string, string) {
		if rest, ok := strings.CutPrefix(ep, "http://"); ok {
			return "HTTP", rest // a local fake
		}
		return "HTTPS", strings.TrimPrefix(ep, "https://")
	}
	rs, rh := scheme(o.ramEndpoint)
	rc, err := ram.NewClientWithOptions("cn-hangzhou", sdk.NewConfig().WithScheme(rs), cred)
	if err != nil {
		return nil, err
	}
	rc.Domain = rh
	ss, sh := scheme(o.stsEndpoint)
	sc, err := sts.NewClientWithOptions("cn-hangzhou", sdk.NewConfig().WithScheme(ss), cred)
	if err != nil {
		return nil, err
	}
	sc.Domain = sh
	return &sdkRAM{ram: rc, sts: sc}, nil
}

func errCode(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

func (c *sdkRAM) AccountID() (string, error) {
	resp, err := c.sts.GetCallerIdentity(sts.CreateGetCallerIdentityRequest())
	if err != nil {
		return "", err
	}
	return resp.AccountId, nil
}

func (c *sdkRAM) GetRole(name string) (string, string, bool, error) {
	req := ram.CreateGetRoleRequest()
	req.RoleName = name
	resp, err := c.ram.GetRole(req)
	if errCode(err) == "EntityNotExist.Role" {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	return resp.Role.Arn, resp.Role.AssumeRolePolicyDocument, true, nil
}

func (c *sdkRAM) CreateRole(name, trust, description string) (string, error) {
	req := ram.CreateCreateRoleRequest()
	req.RoleName, req.AssumeRolePolicyDocument, req.Description = name, trust, description
	resp, err := c.ram.CreateRole(req)
	if err != nil {
		return "", err
	}
	return resp.Role.Arn, nil
}

func (c *sdkRAM) UpdateRoleTrust(name, trust string) error {
	req := ram.CreateUpdateRoleRequest()
	req.RoleName, req.NewAssumeRolePolicyDocument = name, trust
	_, err := c.ram.UpdateRole(req)
	return err
}

func (c *sdkRAM) GetPolicy(name string) (string, bool, error) {
	req := ram.CreateGetPolicyRequest()
	req.PolicyName, req.PolicyType = name, "Custom"
	resp, err := c.ram.GetPolicy(req)
	if errCode(err) == "EntityNotExist.Policy" {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return resp.DefaultPolicyVersion.PolicyDocument, true, nil
}

func (c *sdkRAM) CreatePolicy(name, doc, description string) error {
	req := ram.CreateCreatePolicyRequest()
	req.PolicyName, req.PolicyDocument, req.Description = name, doc, description
	_, err := c.ram.CreatePolicy(req)
	return err
}

func (c *sdkRAM) CreatePolicyVersion(name, doc string) error {
	req := ram.CreateCreatePolicyVersionRequest()
	req.PolicyName, req.PolicyDocument = name, doc
	req.SetAsDefault = requests.NewBoolean(true)
	req.RotateStrategy = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
	_, err := c.ram.CreatePolicyVersion(req)
	return err
}

func (c *sdkRAM) AttachPolicyToRole(policy, role string) error {
	req := ram.CreateAttachPolicyToRoleRequest()
	req.PolicyName, req.PolicyType, req.RoleName = policy, "Custom", role
	_, err := c.ram.AttachPolicyToRole(req)
	if errCode(err) == "EntityAlreadyExists.Role.Policy" {
		return nil
	}
	return err
}
