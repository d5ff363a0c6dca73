package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

const (
	// DefaultAccountClaim is the claim that carries the account UID unless
	// Config.AccountClaim says otherwise.
	DefaultAccountClaim = "aid"
	// DefaultUserClaim is the claim that carries the person's UID unless
	// Config.UserClaim says otherwise.
	DefaultUserClaim = "uid"
	// NoUserClaim as Config.UserClaim means the tokens name no person:
	// every caller is its account's root identity (UserID = AccountID).
	NoUserClaim = "none"
	// MaxUserNameBytes bounds the display name copied into audit records.
	MaxUserNameBytes = 256
	// DefaultLeeway absorbs clock skew between the token issuer and FC.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway caps the skew allowance: a larger one would quietly extend
	// every token's lifetime.
	MaxLeeway = 5 * time.Minute
	// MaxTokenBytes bounds the work an unauthenticated caller can make us do
	// (base64 and JSON decoding happen before the signature is checked).
	MaxTokenBytes = 8 << 10
	// MaxPrincipalBytes bounds the subject that ends up in every audit record.
	MaxPrincipalBytes = 512
	// DefaultJWKSRefresh is how often a JWKS URL is re-fetched in the
	// background, so revoked keys disappear even if no unknown kid shows up.
	DefaultJWKSRefresh = time.Hour
)

// The remote-JWKS tuning. An unknown kid may trigger one re-fetch per five
// minutes (keyfunc's default limiter): the first token signed with a rotated
// key is accepted at once, and random kids cannot turn us into a load
// generator against the issuer. A request never waits more than
// unknownKIDWait for that re-fetch (rate-limit wait plus HTTP), because it
// sits on the request path; past that, the kid is reported unknown.
const (
	unknownKIDWait  = 5 * time.Second
	jwksHTTPTimeout = 10 * time.Second
)

// acceptedAlgs are the only signing algorithms we verify. Listing them is what
// stops "alg: none" and HS256-with-the-public-key forgeries: the parser rejects
// any other alg before a key is even looked up.
var acceptedAlgs = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}

// Config says which tokens a JWTVerifier accepts. Exactly one of JWKSFile,
// JWKSURL and JWKSJSON must be set.
type Config struct {
	Issuer, Audience string // both required; compared exactly
	AccountClaim     string // claim holding the 16-digit account UID; default "aid"
	UserClaim        string // claim holding the person's UID; default "uid"; NoUserClaim: none

	JWKSFile string // path to a JWKS JSON file (public keys only), or
	JWKSURL  string // https URL, fetched and cached, refreshed on unknown kid (rate-limited) and periodically, or
	JWKSJSON []byte // inline JWKS (tests, local server)

	Leeway time.Duration    // clock skew allowance for exp/nbf/iat; 0 means DefaultLeeway
	Now    func() time.Time // for tests; default time.Now

	// JWKSURL only. Zero values mean DefaultJWKSRefresh and an http.Client
	// with a 10 s timeout; tests pass httptest's TLS client here.
	JWKSRefresh time.Duration
	HTTPClient  *http.Client
}

// JWTVerifier verifies RS256/ES256 bearer tokens against a JWKS. It is safe
// for concurrent use.
type JWTVerifier struct {
	parser       *jwt.Parser
	keys         keyfunc.Keyfunc
	accountClaim string
	userClaim    string             // "" when the tokens name no person (NoUserClaim)
	stop         context.CancelFunc // ends the JWKS refresh goroutine; nil for static keys
}

var _ Verifier = (*JWTVerifier)(nil)

// NewVerifier validates cfg and loads the keys. A JWKS URL is fetched once
// here, so a wrong URL or an unreachable issuer fails start-up rather than
// every request; ctx bounds that first fetch only. Call Close to stop the
// background refresh.
func NewVerifier(ctx context.Context, cfg Config) (*JWTVerifier, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}

	v := &JWTVerifier{accountClaim: cfg.AccountClaim, userClaim: cfg.UserClaim}
	if cfg.UserClaim == NoUserClaim {
		v.userClaim = ""
	}
	var err error
	switch {
	case cfg.JWKSFile != "":
		var raw []byte
		raw, err = os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("auth: reading Config.JWKSFile: %w", err)
		}
		v.keys, err = staticKeys(raw)
		if err != nil {
			return nil, fmt.Errorf("auth: JWKS file %s: %w", cfg.JWKSFile, err)
		}
	case len(cfg.JWKSJSON) > 0:
		v.keys, err = staticKeys(cfg.JWKSJSON)
		if err != nil {
			return nil, fmt.Errorf("auth: Config.JWKSJSON: %w", err)
		}
	default:
		v.keys, v.stop, err = remoteKeys(ctx, cfg)
		if err != nil {
			return nil, err
		}
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods(acceptedAlgs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// normalize applies defaults and rejects a config that cannot work, naming
// the field so the config layer can map it to its environment variable.
func (c *Config) normalize() error {
	if c.Issuer == "" {
		return errors.New("auth: Config.Issuer is required")
	}
	if c.Audience == "" {
		return errors.New("auth: Config.Audience is required")
	}
	if c.AccountClaim == "" {
		c.AccountClaim = DefaultAccountClaim
	}
	if c.UserClaim == "" {
		c.UserClaim = DefaultUserClaim
	}
	if c.UserClaim == c.AccountClaim {
		return fmt.Errorf("auth: Config.UserClaim and Config.AccountClaim are both %q; the person and the account need their own claims (UserClaim %q: tokens name no person)", c.UserClaim, NoUserClaim)
	}
	switch {
	case c.Leeway < 0:
		return fmt.Errorf("auth: Config.Leeway must not be negative (got %s)", c.Leeway)
	case c.Leeway > MaxLeeway:
		return fmt.Errorf("auth: Config.Leeway %s is above the %s maximum", c.Leeway, MaxLeeway)
	case c.Leeway == 0:
		c.Leeway = DefaultLeeway
	}

	sources := 0
	for _, set := range []bool{c.JWKSFile != "", c.JWKSURL != "", len(c.JWKSJSON) > 0} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return fmt.Errorf("auth: set exactly one of Config.JWKSFile, Config.JWKSURL and Config.JWKSJSON (%d set)", sources)
	}

	if c.JWKSURL == "" {
		if c.JWKSRefresh != 0 || c.HTTPClient != nil {
			return errors.New("auth: Config.JWKSRefresh and Config.HTTPClient apply only with Config.JWKSURL")
		}
		return nil
	}
	u, err := url.Parse(c.JWKSURL)
	if err != nil {
		return fmt.Errorf("auth: Config.JWKSURL: %w", err)
	}
	// Keys fetched over plain HTTP could be swapped by anyone on the path,
	// and with them every identity.
	if u.Scheme != "https" || u.Host == "" {
		return errors.New("auth: Config.JWKSURL must be an https:// URL")
	}
	switch {
	case c.JWKSRefresh < 0:
		return fmt.Errorf("auth: Config.JWKSRefresh must not be negative (got %s)", c.JWKSRefresh)
	case c.JWKSRefresh == 0:
		c.JWKSRefresh = DefaultJWKSRefresh
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: jwksHTTPTimeout}
	}
	return nil
}

// Close stops the background JWKS refresh, if any. Verify keeps working with
// the keys already cached.
func (v *JWTVerifier) Close() {
	if v != nil && v.stop != nil {
		v.stop()
	}
}

// Verify checks token and returns the caller it names. Every failure is an
// apperr Unauthenticated error whose message says what was wrong; neither
// the message nor the wrapped cause contains the token.
func (v *JWTVerifier) Verify(ctx context.Context, token string) (Caller, error) {
	if token == "" {
		return Caller{}, apperr.Unauthenticated("missing bearer token")
	}
	if len(token) > MaxTokenBytes {
		return Caller{}, apperr.Unauthenticated("token is larger than %d KiB", MaxTokenBytes>>10)
	}

	claims := jwt.MapClaims{}
	parsed, err := v.parser.ParseWithClaims(token, claims, v.keys.KeyfuncCtx(ctx))
	if err != nil {
		return Caller{}, rejection(err, parsed, claims)
	}

	// From here on the signature and registered claims are good; what is left
	// is our own contract on the payload.
	return v.caller(claims)
}

// caller reads the person from verified claims (docs/API.md "People").
func (v *JWTVerifier) caller(claims jwt.MapClaims) (Caller, error) {
	raw, ok := claims[v.accountClaim]
	if !ok {
		return Caller{}, missingClaim("account", v.accountClaim, "JWT_ACCOUNT_CLAIM", claims)
	}
	account, ok := raw.(string)
	if !ok || !validate.IsAccountID(account) {
		return Caller{}, apperr.Unauthenticated("token account claim %q is not a 16-digit account ID string", v.accountClaim)
	}
	c := Caller{AccountID: account, UserID: account}
	if v.userClaim != "" {
		raw, ok := claims[v.userClaim]
		if !ok {
			return Caller{}, missingClaim("user", v.userClaim, "JWT_USER_CLAIM", claims)
		}
		if c.UserID, ok = raw.(string); !ok || !role.IsUserID(c.UserID) {
			return Caller{}, apperr.Unauthenticated("token user claim %q is not a UID string of 1 to %d digits", v.userClaim, role.MaxUserIDLen)
		}
	}
	c.UserName = userName(claims)
	sub, err := claims.GetSubject()
	if err != nil {
		return Caller{}, apperr.Wrap(err, apperr.KindUnauthenticated, apperr.CodeUnauthenticated, "token subject (sub) is not a string")
	}
	if !validPrincipal(sub) {
		return Caller{}, apperr.Unauthenticated("token subject (sub) is longer than %d bytes or has control characters (or bidirectional, zero-width or tag characters)", MaxPrincipalBytes)
	}
	c.Principal = cmp.Or(sub, c.UserID)
	return c, nil
}

// nameClaims carry the person's name (scope profile), the first present
// wins: the sign-in name (upn, login_name), then the display name.
var nameClaims = []string{"upn", "login_name", "name"}

// userName is the first name claim that is bounded text; a name that is not
// is skipped rather than refused, since it decides nothing.
func userName(claims jwt.MapClaims) string {
	for _, n := range nameClaims {
		if s, ok := claims[n].(string); ok && s != "" && validate.IsFreeText(s, MaxUserNameBytes) {
			return s
		}
	}
	return ""
}

// maxListedClaims bounds the claim names a 401 lists.
const maxListedClaims = 30

// missingClaim is the 401 of a token without the account or user claim: it
// lists the names (never the values) of the claims the token does carry,
// so an operator can see which name to configure.
func missingClaim(what, claim, variable string, claims jwt.MapClaims) error {
	names := slices.Sorted(maps.Keys(claims))
	for i, n := range names {
		names[i] = strconv.Quote(validate.Clip(n))
	}
	if len(names) > maxListedClaims {
		names = append(names[:maxListedClaims], "…")
	}
	return apperr.Unauthenticated("token has no %s claim %q (%s); the token's claims are %s", what, claim, variable, strings.Join(names, ", "))
}

// rejection turns a golang-jwt error into the message the caller sees. The
// cause is kept for the log: golang-jwt and jwkset errors name what failed
// (and at most the kid), never the token.
func rejection(err error, tok *jwt.Token, claims jwt.MapClaims) *apperr.Error {
	msg := "token is invalid"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "token is malformed"
	case !algAccepted(tok) && (errors.Is(err, jwt.ErrTokenSignatureInvalid) || errors.Is(err, jwt.ErrTokenUnverifiable)):
		// The parser refuses any alg outside acceptedAlgs before looking up a
		// key; that is the "alg: none" and HS256-key-confusion case.
		msg = "token signing algorithm not accepted; only RS256 and ES256 are"
	case errors.Is(err, jwkset.ErrKeyNotFound):
		msg = "token signing key (kid) is not known"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		msg = "token signing key could not be used"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		msg = "token signature is invalid"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		msg = claimsRejection(err, claims)
	}
	return apperr.Wrap(err, apperr.KindUnauthenticated, apperr.CodeUnauthenticated, "%s", msg)
}

// claimsRejection picks one message when the validator reports several
// claim problems, most actionable first.
func claimsRejection(err error, claims jwt.MapClaims) string {
	switch {
	case errors.Is(err, jwt.ErrInvalidType):
		return "token has a time, issuer or audience claim of the wrong type"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for _, c := range []struct{ name, what string }{
			{"exp", "expiry"}, {"iss", "issuer"}, {"aud", "audience"},
		} {
			if v, ok := claims[c.name]; !ok || v == "" {
				return fmt.Sprintf("token has no %s (%s) claim", c.what, c.name)
			}
		}
		return "token is missing a required claim"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet (nbf is in the future)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future (iat); check the issuer's clock"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience not accepted"
	}
	return "token claims are invalid"
}

func algAccepted(tok *jwt.Token) bool {
	if tok == nil || tok.Method == nil {
		return false
	}
	alg := tok.Method.Alg()
	for _, a := range acceptedAlgs {
		if a == alg {
			return true
		}
	}
	return false
}

// validPrincipal keeps the audit trail readable: the subject is copied into
// every audit record, so it must be bounded text without control characters.
func validPrincipal(s string) bool { return validate.IsFreeText(s, MaxPrincipalBytes) }

// BearerToken extracts the token from an Authorization header value. The
// scheme is case-insensitive (RFC 7235). Errors never echo the header: a
// caller who forgot the scheme put the bare token there.
func BearerToken(authorizationHeader string) (string, error) {
	h := strings.TrimSpace(authorizationHeader)
	if h == "" {
		return "", apperr.Unauthenticated(`missing Authorization header; send "Authorization: Bearer <token>"`)
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", apperr.Unauthenticated(`Authorization header must use the Bearer scheme: "Authorization: Bearer <token>"`)
	}
	token := strings.TrimSpace(rest)
	if token == "" {
		return "", apperr.Unauthenticated("Authorization header has no bearer token after the scheme")
	}
	if strings.ContainsAny(token, " \t") {
		return "", apperr.Unauthenticated("bearer token must be a single value without spaces")
	}
	return token, nil
}
