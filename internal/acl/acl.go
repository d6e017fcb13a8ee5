// Package acl holds the client credentials of a cluster as sessions check
// them: who may connect (a credential's token), as which application, and
// which dataIds it may publish and subscribe to (dataId patterns, like
// Consul's service-scoped ACL tokens). Meta keeps the credentials and sends
// them to every session with the cluster config; a Set is one version of
// them, immutable, swapped whole when meta sends another.
//
// A token is "<name>.<secret>": the name finds the credential, and the
// secret's hash is compared with the one meta keeps in constant time, so
// neither the lookup nor the comparison tells a guesser how close it came.
// Tokens are 130-bit random strings made by meta (NewToken), so one round of
// SHA-256 is enough to keep them: a slow password hash would only make each
// handshake a CPU cost an attacker could spend at will.
package acl

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// NewToken returns a new random token of the credential name.
func NewToken(name string) string { return name + "." + rand.Text() }

// HashToken returns the hash meta keeps of a token.
func HashToken(token string) [proto.TokenHashLen]byte { return sha256.Sum256([]byte(token)) }

// Set is an immutable set of credentials, by name.
type Set struct {
	Enforce bool
	byName  map[string]*proto.Credential
}

// NewSet indexes a.
func NewSet(a proto.ACL) *Set {
	s := &Set{Enforce: a.Enforce, byName: make(map[string]*proto.Credential, len(a.Credentials))}
	for i := range a.Credentials {
		s.byName[a.Credentials[i].Name] = &a.Credentials[i]
	}
	return s
}

// Len returns the number of credentials.
func (s *Set) Len() int { return len(s.byName) }

// Get returns the credential named name.
func (s *Set) Get(name string) (*proto.Credential, bool) {
	c, ok := s.byName[name]
	return c, ok
}

// Authenticate returns the credential whose token this is, or false.
func (s *Set) Authenticate(token string) (*proto.Credential, bool) {
	i := strings.LastIndexByte(token, '.')
	if i <= 0 {
		return nil, false
	}
	c, ok := s.byName[token[:i]]
	if !ok {
		return nil, false
	}
	h := HashToken(token)
	return c, subtle.ConstantTimeCompare(h[:], c.TokenHash[:]) == 1
}

// DataID returns the dataId of a dataInfoId: the part before its first "#@#".
func DataID(dataInfoID string) string {
	if i := strings.Index(dataInfoID, "#@#"); i >= 0 {
		return dataInfoID[:i]
	}
	return dataInfoID
}

// Allowed reports whether a dataId matches one of patterns.
func Allowed(patterns []string, dataID string) bool {
	for _, p := range patterns {
		if Match(p, dataID) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern: "*" matches any run of
// characters (none included), "?" any one byte, anything else itself. It
// takes time linear in len(pattern)*len(s) at worst, never exponential.
func Match(pattern, s string) bool {
	// The classic greedy matcher: on a mismatch, go back to the last star
	// and let it take one more byte.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*': // first: a star is never a literal '*'
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
