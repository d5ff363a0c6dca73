package oidc

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// authRequest is an authorization request (OpenID Connect Core §3.1.2.1).
type authRequest struct {
	ResponseType, ClientID, RedirectURI, Scope, State, Nonce, Challenge, ChallengeMethod string
}

func readAuthRequest(v url.Values) authRequest {
	return authRequest{ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		Scope: v.Get("scope"), State: v.Get("state"), Nonce: v.Get("nonce"),
		Challenge: v.Get("code_challenge"), ChallengeMethod: v.Get("code_challenge_method")}
}

// authorize is the sign-in page (GET) and its form (POST). Errors about the
// client or the redirect URI are shown here (RFC 6749 §4.1.2.1: never
// redirect to an unchecked URI); the others go back to the client.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.page(w, r, http.StatusBadRequest, pageData{Fatal: "The request could not be read."})
		return
	}
	values := r.URL.Query()
	if r.Method == http.MethodPost {
		values = r.PostForm
	}
	req := readAuthRequest(values)
	if req.ClientID != p.opts.ClientID {
		p.page(w, r, http.StatusBadRequest, pageData{Fatal: "Unknown client_id " + validate.Clip(req.ClientID) + "."})
		return
	}
	back, ok := loopbackRedirect(req.RedirectURI)
	if !ok {
		p.page(w, r, http.StatusBadRequest, pageData{Fatal: "redirect_uri must be an http(s) URL on 127.0.0.1, localhost or [::1] (make run)."})
		return
	}
	fail := func(code, desc string) {
		redirectBack(w, r, back, url.Values{"error": {code}, "error_description": {desc}, "state": {req.State}})
	}
	switch {
	case req.ResponseType != "code":
		fail("unsupported_response_type", "Only response_type=code is supported.")
		return
	case !slices.Contains(strings.Fields(req.Scope), "openid"):
		fail("invalid_scope", "scope must include openid.")
		return
	case req.ChallengeMethod != "S256" || !challengeRE.MatchString(req.Challenge):
		fail("invalid_request", "PKCE is required: code_challenge (43 base64url characters) with code_challenge_method=S256.")
		return
	case req.State == "" || req.Nonce == "":
		fail("invalid_request", "state and nonce are required.")
		return
	}
	data := pageData{Req: req, Picks: p.opts.Picks(r.Context()), RedirectOrigin: back.Scheme + "://" + back.Host}
	if r.Method == http.MethodGet {
		p.page(w, r, http.StatusOK, data)
		return
	}
	if r.PostForm.Get("cancel") != "" {
		fail("access_denied", "The user cancelled the sign-in.")
		return
	}
	person, errMsg := signInPerson(r.PostForm, &data)
	if errMsg != "" || r.PostForm.Get("preview") != "" {
		data.Error = errMsg
		p.page(w, r, http.StatusOK, data)
		return
	}
	code := p.issueCode(grant{person: person, clientID: req.ClientID, redirectURI: req.RedirectURI,
		challenge: req.Challenge, nonce: req.Nonce})
	redirectBack(w, r, back, url.Values{"code": {code}, "state": {req.State}})
}

// signInPerson reads who signs in from the form: a quick pick
// ("<account>" or "<account>/<RAM user>"), else the Account UID and RAM
// user fields. It fills the page's fields (to show the form again with the
// RAM user's UID) and returns the person, or the error to show.
func signInPerson(form url.Values, data *pageData) (role.Person, string) {
	account, ramUser := strings.TrimSpace(form.Get("account")), strings.TrimSpace(form.Get("ram_user"))
	if pick := strings.TrimSpace(form.Get("pick")); pick != "" {
		account, ramUser, _ = strings.Cut(pick, "/")
	}
	data.Account, data.RAMUser = account, ramUser
	if !validate.IsAccountID(account) {
		return role.Person{}, "Enter an Account UID of 16 digits, or choose an account below."
	}
	if !validate.IsFreeText(ramUser, maxRAMUser) || strings.Contains(ramUser, "/") {
		return role.Person{}, fmt.Sprintf("A RAM user name is at most %d characters of text without \"/\".", maxRAMUser)
	}
	data.UserID = RAMUserID(account, ramUser)
	return role.Person{AccountID: account, UserID: data.UserID, UserName: ramUser}, ""
}

// maxRAMUser bounds a RAM user name (RAM allows 64 characters before the
// @ of a sign-in name; a whole one stays well within this).
const maxRAMUser = 128

// redirectBack sends the browser to the client's redirect URI with params
// added to its query (303: the form's POST becomes a GET).
func redirectBack(w http.ResponseWriter, r *http.Request, back *url.URL, params url.Values) {
	u := *back
	q := u.Query()
	for k, v := range params {
		if v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

type pageData struct {
	Fatal          string
	Error          string
	Account        string
	RAMUser        string
	UserID         string // the UID the form signs in with, once known
	Req            authRequest
	Picks          []Pick
	RedirectOrigin string
}

func (p *Provider) page(w http.ResponseWriter, _ *http.Request, status int, d pageData) {
	// No script at all; the form may post here and then redirect to the
	// console's origin, which form-action must allow.
	formAction := "'self'"
	if d.RedirectOrigin != "" {
		formAction += " " + d.RedirectOrigin
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, d)
}

var pageTmpl = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — local identity provider</title><link rel="stylesheet" href="/oidc/style.css"></head>
<body><main>
<h1>Sign in</h1>
<p class="note">Local identity provider of <code>make run</code>: it stands in for Alibaba Cloud sign-in and signs you in as any account, or as any RAM user of it.</p>
{{if .Fatal}}<p role="alert" class="error">{{.Fatal}}</p>{{else}}
<form method="post" action="/oidc/authorize">
{{with .Req}}<input type="hidden" name="response_type" value="{{.ResponseType}}">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Scope}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="nonce" value="{{.Nonce}}">
<input type="hidden" name="code_challenge" value="{{.Challenge}}">
<input type="hidden" name="code_challenge_method" value="{{.ChallengeMethod}}">{{end}}
<label for="account">Account UID</label>
<input id="account" name="account" inputmode="numeric" autocomplete="username" value="{{.Account}}" placeholder="16 digits"{{if .Error}} aria-invalid="true" aria-describedby="account-error"{{end}} autofocus>
<label for="ram_user">RAM user <span class="optional">(optional)</span></label>
<input id="ram_user" name="ram_user" autocomplete="off" value="{{.RAMUser}}" placeholder="e.g. alice@example.onaliyun.com" aria-describedby="ram-user-note">
<p id="ram-user-note" class="note">Empty: the account's root identity. A name: a RAM user of the account, whose UID is derived from the account and the name{{if .UserID}} — <strong id="user-id">UID {{.UserID}}</strong>{{end}}.</p>
{{if .Error}}<p id="account-error" role="alert" class="error">{{.Error}}</p>{{end}}
<div class="actions"><button type="submit" id="sign-in">Sign in</button> <button type="submit" name="preview" value="1" class="secondary">Show UID</button> <button type="submit" name="cancel" value="1" class="secondary">Cancel</button></div>
{{if .Picks}}<fieldset><legend>Quick picks</legend><ul>
{{range .Picks}}<li><button type="submit" name="pick" value="{{.Value}}" class="pick">{{.Label}}{{if .RAMUser}} <em>{{.RAMUser}}</em>{{end}} <span>{{if .RAMUser}}{{.UserID}} of {{end}}{{.AccountID}}</span></button></li>
{{end}}</ul></fieldset>{{end}}
</form>{{end}}
</main></body></html>
`))

func serveStyle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(style))
}

const style = `body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1f2329}
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{margin-top:0;font-size:1.4rem}.note{color:#555;font-size:.9rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}input{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #999;border-radius:4px}
button{font:inherit;padding:.5rem 1rem;border-radius:4px;border:1px solid #ff6a00;background:#ff6a00;color:#fff;cursor:pointer}
button.secondary,button.pick{background:#fff;color:#1f2329;border-color:#999}.pick{width:100%;text-align:left;margin:.2rem 0}.pick span{color:#555;float:right}
.actions{margin-top:1rem}.optional{font-weight:400;color:#555}fieldset{margin-top:1.5rem;border:1px solid #ddd;border-radius:4px}ul{list-style:none;padding:0;margin:0}
:focus-visible{outline:3px solid #0064c8;outline-offset:2px}.error{color:#b00020}`

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
