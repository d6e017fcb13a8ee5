package meta

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/roster-registry/roster/internal/acl"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/proto"
)

// Client credentials (package acl) are part of the cluster config: rows of
// the store's config table, one per credential under aclCredentialPrefix
// (the store's fenced writes and both backends' migrations cover them as
// they cover the client-off list), and the switch under aclEnforceKey.
// Every session gets them with its heartbeat replies, so a change applies
// cluster-wide within a heartbeat (session.metaHeartbeat) of the write.
const (
	aclCredentialPrefix = "acl/credential/"
	aclEnforceKey       = "acl/enforce" // "1": every client must present a credential
)

// storedCredential is a credential as the store keeps it: never the token.
type storedCredential struct {
	TokenHash string   `json:"tokenHash"` // hex SHA-256 of the token
	App       string   `json:"app"`
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
}

// readACL reads the stored credentials, sorted by name, and the switch. A
// row that does not hold a valid credential is reported in bad and left
// out: it cannot let anyone in, and the rest of the config must load.
func readACL(ctx context.Context, st store.Store) (a proto.ACL, bad []string, err error) {
	rows, err := st.ListConfig(ctx, aclCredentialPrefix)
	if err != nil {
		return a, nil, fmt.Errorf("cannot load the credentials: %w", err)
	}
	for key, v := range rows {
		c, err := decodeCredential(strings.TrimPrefix(key, aclCredentialPrefix), v)
		if err != nil {
			bad = append(bad, key)
			continue
		}
		a.Credentials = append(a.Credentials, c)
	}
	slices.SortFunc(a.Credentials, func(x, y proto.Credential) int { return strings.Compare(x.Name, y.Name) })
	on, _, err := st.GetConfig(ctx, aclEnforceKey)
	if err != nil {
		return a, bad, fmt.Errorf("cannot load the credential switch: %w", err)
	}
	a.Enforce = string(on) == "1"
	return a, bad, nil
}

func decodeCredential(name string, v []byte) (proto.Credential, error) {
	var sc storedCredential
	if err := json.Unmarshal(v, &sc); err != nil {
		return proto.Credential{}, fmt.Errorf("cannot decode credential %s: %w", name, err)
	}
	c := proto.Credential{Name: name, App: sc.App, Publish: sc.Publish, Subscribe: sc.Subscribe}
	h, err := hex.DecodeString(sc.TokenHash)
	if err != nil || len(h) != proto.TokenHashLen {
		return c, fmt.Errorf("cannot decode the token hash of credential %s: %w", name, proto.ErrInvalidCredential)
	}
	copy(c.TokenHash[:], h)
	return c, c.Check()
}

func encodeCredential(c *proto.Credential) []byte {
	b, _ := json.Marshal(storedCredential{TokenHash: hex.EncodeToString(c.TokenHash[:]), App: c.App,
		Publish: c.Publish, Subscribe: c.Subscribe}) // cannot fail: strings only
	return b
}

// aclRoutes registers the credential endpoints (docs/http-api.md).
func (s *Server) aclRoutes() {
	s.http.HandleAdmin("POST /api/acl/create", s.handleACLChange(aclCreate))
	s.http.HandleAdmin("POST /api/acl/update", s.handleACLChange(aclUpdate))
	s.http.HandleAdmin("POST /api/acl/rotate", s.handleACLChange(aclRotate))
	s.http.HandleAdmin("POST /api/acl/delete", s.handleACLChange(aclDelete))
	s.http.HandleAdmin("POST /api/acl/enforce", s.handleACLEnforce)
	s.http.HandlePrivate("GET /api/acl/query", s.handleACLQuery)
}

// CredentialJSON is a credential as the endpoints show it: never its token
// nor its hash.
type CredentialJSON struct {
	Name      string   `json:"name"`
	App       string   `json:"app"`
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
}

// ACLJSON answers GET /api/acl/query.
type ACLJSON struct {
	Enforce     bool             `json:"enforce"`
	Credentials []CredentialJSON `json:"credentials"`
}

// ACLChangeJSON answers a credential change. Token is set by create and
// rotate only: the one time it is shown.
type ACLChangeJSON struct {
	Success    bool           `json:"success"`
	Credential CredentialJSON `json:"credential"`
	Token      string         `json:"token,omitempty"`
}

func credentialJSON(c *proto.Credential) CredentialJSON {
	return CredentialJSON{Name: c.Name, App: c.App, Publish: nonNil(c.Publish), Subscribe: nonNil(c.Subscribe)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type aclOp int

const (
	aclCreate aclOp = iota
	aclUpdate
	aclRotate
	aclDelete
)

// aclError is a refused credential change, with its HTTP status.
type aclError struct {
	status int
	msg    string
}

func (e *aclError) Error() string { return e.msg }

// patterns reads a permission list from form field name: comma-separated,
// repeatable; present tells whether the field was sent at all.
func patterns(r *http.Request, name string) (list []string, present bool) {
	values, present := r.Form[name]
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(list, p) {
				list = append(list, p)
			}
		}
	}
	return list, present
}

// handleACLChange creates, updates, rotates or deletes the credential named
// by form field name. Create takes app, publish and subscribe and answers
// the token; update replaces the fields it is sent (an empty publish= clears
// the list); rotate answers a new token, the old one no longer works.
func (s *Server) handleACLChange(op aclOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSpace(r.Form.Get("name"))
		pub, hasPub := patterns(r, "publish")
		sub, hasSub := patterns(r, "subscribe")
		app, hasApp := strings.TrimSpace(r.Form.Get("app")), r.Form.Has("app")
		var (
			res     ACLChangeJSON
			refusal error
		)
		err := s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
			creds := slices.Clone(c.acl.Credentials)
			i, found := slices.BinarySearchFunc(creds, name, func(x proto.Credential, n string) int { return strings.Compare(x.Name, n) })
			switch {
			case op == aclCreate && found:
				refusal = &aclError{http.StatusConflict, "credential " + name + " exists (update or rotate it, or delete it first)"}
				return "", nil, false
			case op != aclCreate && !found:
				refusal = &aclError{http.StatusNotFound, "no credential " + name}
				return "", nil, false
			case op == aclCreate && len(creds) >= proto.MaxCredentials:
				refusal = &aclError{http.StatusConflict, fmt.Sprintf("%d credentials exist, the limit", proto.MaxCredentials)}
				return "", nil, false
			case op == aclDelete && c.acl.Enforce && len(creds) == 1:
				refusal = &aclError{http.StatusConflict, "credential " + name + " is the last one and credentials are enforced: " +
					"deleting it would refuse every client (turn enforcement off first)"}
				return "", nil, false
			}
			if op == aclDelete {
				c.acl.Credentials = slices.Delete(creds, i, i+1)
				res.Credential = credentialJSON(&creds[i])
				return aclCredentialPrefix + name, nil, true
			}
			var cred proto.Credential
			if found {
				cred = creds[i]
			}
			cred.Name = name
			if op == aclCreate || hasApp {
				cred.App = app
			}
			if op == aclCreate || hasPub {
				cred.Publish = pub
			}
			if op == aclCreate || hasSub {
				cred.Subscribe = sub
			}
			if op == aclCreate || op == aclRotate {
				res.Token = acl.NewToken(name)
				cred.TokenHash = acl.HashToken(res.Token)
			}
			if err := cred.Check(); err != nil {
				refusal = &aclError{http.StatusBadRequest, err.Error()}
				return "", nil, false
			}
			if found {
				creds[i] = cred
			} else {
				creds = slices.Insert(creds, i, cred)
			}
			next := proto.ACL{Enforce: c.acl.Enforce, Credentials: creds}
			if n := len((&proto.NodeHeartbeatReply{ConfigEpoch: 1, ACL: next}).AppendBody(nil)); n > proto.MaxACLBytes {
				refusal = &aclError{http.StatusConflict, fmt.Sprintf("the credentials would take %d bytes, over the limit of %d", n, proto.MaxACLBytes)}
				return "", nil, false
			}
			c.acl = next
			res.Credential = credentialJSON(&cred)
			return aclCredentialPrefix + name, encodeCredential(&cred), true
		})
		res.Success = true
		answerACL(w, err, refusal, res)
	}
}

// answerACL answers a credential change: the refusal the change found, or
// the error of writing it, or res.
func answerACL(w http.ResponseWriter, err, refusal error, res any) {
	if err == nil {
		err = refusal
	}
	var e *aclError
	switch {
	case errors.As(err, &e):
		opshttp.WriteError(w, e.status, e.msg)
	case err != nil:
		writeConfigError(w, err)
	default:
		opshttp.WriteJSON(w, http.StatusOK, res)
	}
}

// handleACLEnforce turns enforcement on or off (form field on: true or
// false). It will not turn it on with no credential: every client would be
// refused.
func (s *Server) handleACLEnforce(w http.ResponseWriter, r *http.Request) {
	var on bool
	switch v := r.Form.Get("on"); v {
	case "true", "1":
		on = true
	case "false", "0":
	default:
		opshttp.WriteError(w, http.StatusBadRequest, fmt.Sprintf("form field on is %q: want true or false", v))
		return
	}
	var refusal error
	err := s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
		if c.acl.Enforce == on {
			return "", nil, false
		}
		if on && len(c.acl.Credentials) == 0 {
			refusal = &aclError{http.StatusConflict, "no credential exists: enforcing would refuse every client (create credentials first)"}
			return "", nil, false
		}
		c.acl.Enforce = on
		value := "0"
		if on {
			value = "1"
		}
		return aclEnforceKey, []byte(value), true
	})
	answerACL(w, err, refusal, map[string]any{"success": true, "enforce": on})
}

func (s *Server) handleACLQuery(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	out := ACLJSON{Enforce: c.acl.Enforce, Credentials: make([]CredentialJSON, 0, len(c.acl.Credentials))}
	for i := range c.acl.Credentials {
		out.Credentials = append(out.Credentials, credentialJSON(&c.acl.Credentials[i]))
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}
