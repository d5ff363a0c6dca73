package server

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// mountHelpers mounts the /_local/* helpers: they stand in for what happens
// outside SASE (a token from the identity provider, the invitee's actions in
// its own account, a change made in the RD console). They are plain net/http
// handlers that answer in the functions' envelope (RequestId, Code,
// Message); no function binary contains them.
func (s *Server) mountHelpers() {
	sim, signer := s.sim, s.signer
	for name, h := range map[string]helper{
		"token":             mintToken(signer),
		"accept-invitation": acceptInvitation(sim, s.checkHandshakes),
		"remove-account":    removeAccount(sim),
		"rename-account":    renameAccount(sim),
		"create-folder":     createFolder(sim),
		"move-account":      moveAccount(sim),
		"create-account":    createAccount(sim),
	} {
		s.mux.Handle("/_local/"+name, h)
	}
}

// helper is one /_local/* endpoint: it decodes the JSON body itself.
type helper func(ctx context.Context, body []byte) (any, error)

// ServeHTTP answers POST with h's result, everything else with 405.
func (h helper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := httpapi.NewRequestID()
	out, err := h.serve(r)
	status := http.StatusOK
	if err != nil {
		status, out = httpapi.ErrorEnvelope(err)
	}
	b, err := httpapi.Envelope(reqID, out)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Code":"`+string(apperr.CodeInternal)+`"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Request-Id", reqID)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (h helper) serve(r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, apperr.New(apperr.KindMethod, apperr.CodeMethodNotAllowed, "%s accepts POST, not %s.", r.URL.Path, r.Method)
	}
	if len(r.URL.RawQuery) > 0 {
		return nil, apperr.Malformed("%s takes no query parameters; send every field in the JSON body.", r.URL.Path)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, httpapi.MaxBody+1))
	if err != nil {
		return nil, apperr.Malformed("Cannot read the request body: %v", err)
	}
	if len(body) > httpapi.MaxBody {
		return nil, httpapi.TooLarge()
	}
	return h(r.Context(), body)
}

// tokenIn is the body of /_local/token: a person of an account (UserId
// defaults to AccountId, the account's root identity).
type tokenIn struct {
	AccountID string `json:"AccountId"`
	UserID    string `json:"UserId"`
	UserName  string
}

func mintToken(signer *localkey.Signer) helper {
	return func(ctx context.Context, body []byte) (any, error) {
		var in tokenIn
		if err := httpapi.DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		if err := validate.AccountID("AccountId", in.AccountID); err != nil {
			return nil, err
		}
		p := role.Person{AccountID: in.AccountID, UserID: cmp.Or(in.UserID, in.AccountID), UserName: in.UserName}
		if !role.IsUserID(p.UserID) {
			return nil, apperr.Invalid("UserId", "UserId %q is not a UID: it must be 1 to %d digits.", validate.Clip(p.UserID), role.MaxUserIDLen)
		}
		if !validate.IsFreeText(p.UserName, auth.MaxUserNameBytes) {
			return nil, apperr.Invalid("UserName", "UserName must be at most %d bytes of text without control characters.", auth.MaxUserNameBytes)
		}
		tok, err := signer.MintPerson(p, localkey.Subject(p), time.Hour)
		if err != nil {
			return nil, apperr.Internal(fmt.Errorf("mint local token: %w", err))
		}
		return struct{ Token string }{tok}, nil
	}
}

// acceptInvitation is the invitee accepting in its own account. RD sends the
// management account no event for it; check-handshakes' timer notices it in
// the cloud within a minute. Here the check runs at once after the accept
// (as if the timer fired), unless "DeliverEvent": false asks to leave it to
// a test (POST /check-handshakes).
func acceptInvitation(sim *simulation.Sim, check func(ctx context.Context, trigger string)) helper {
	return func(ctx context.Context, body []byte) (any, error) {
		var in struct {
			InvitationID string `json:"InvitationId"`
			DisplayName  string
			DeliverEvent *bool
		}
		if err := httpapi.DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		if in.InvitationID == "" {
			return nil, apperr.Missing("InvitationId")
		}
		out, err := directoryChange(ctx, sim, in.DeliverEvent, func(ctx context.Context) (answer, error) {
			acc, err := sim.AcceptInvitation(ctx, in.InvitationID, in.DisplayName)
			return answer{"Account": accountOf(ctx, sim, acc)}, err
		})
		if err == nil && (in.DeliverEvent == nil || *in.DeliverEvent) {
			check(ctx, "accept-invitation")
		}
		return out, err
	}
}

func removeAccount(sim *simulation.Sim) helper {
	return func(ctx context.Context, body []byte) (any, error) {
		var in struct {
			AccountID    string `json:"AccountId"`
			DeliverEvent *bool
		}
		if err := httpapi.DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		if err := validate.AccountID("AccountId", in.AccountID); err != nil {
			return nil, err
		}
		return directoryChange(ctx, sim, in.DeliverEvent, func(ctx context.Context) (answer, error) {
			return answer{}, sim.RemoveAccount(ctx, in.AccountID)
		})
	}
}

func renameAccount(sim *simulation.Sim) helper {
	return func(ctx context.Context, body []byte) (any, error) {
		var in struct {
			AccountID    string `json:"AccountId"`
			DisplayName  string
			DeliverEvent *bool
		}
		if err := httpapi.DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		if err := validate.AccountID("AccountId", in.AccountID); err != nil {
			return nil, err
		}
		if in.DisplayName == "" {
			return nil, apperr.Missing("DisplayName")
		}
		return directoryChange(ctx, sim, in.DeliverEvent, func(ctx context.Context) (answer, error) {
			acc, err := sim.RenameAccount(ctx, in.AccountID, in.DisplayName)
			return answer{"Account": accountOf(ctx, sim, acc)}, err
		})
	}
}
