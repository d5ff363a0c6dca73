package httpapi

import (
	"net/http"
	"slices"

	"github.com/aliyun/fc-runtime-go-sdk/events"
)

func (s *Server) allowedOrigin(origin string) bool {
	return origin != "" && (slices.Contains(s.AllowedOrigins, "*") || slices.Contains(s.AllowedOrigins, origin))
}

func (s *Server) cors(r *Request, h map[string]string) {
	if origin := r.Header("Origin"); s.allowedOrigin(origin) {
		h["Access-Control-Allow-Origin"] = origin
		h["Access-Control-Expose-Headers"] = "X-Request-Id"
		h["Vary"] = "Origin"
	}
}

func (s *Server) preflight(ep Endpoint, r *Request) *events.HTTPTriggerResponse {
	h := map[string]string{"X-Request-Id": r.ID}
	if origin := r.Header("Origin"); s.allowedOrigin(origin) {
		h["Access-Control-Allow-Origin"] = origin
		h["Access-Control-Allow-Methods"] = ep.Method + ", OPTIONS"
		h["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
		h["Access-Control-Max-Age"] = "600"
		h["Vary"] = "Origin"
	}
	return &events.HTTPTriggerResponse{StatusCode: http.StatusNoContent, Headers: h}
}
