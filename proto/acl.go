package proto

import (
	"fmt"
	"strings"
)

// Limits of the cluster's client credentials (see ACL). They bound what meta
// accepts from an operator and what a node accepts in a heartbeat reply.
const (
	MaxCredentials     = 1000    // credentials in a cluster
	MaxPermissions     = 32      // dataId patterns in one permission list
	MaxPatternLen      = 256     // bytes of one pattern
	MaxCredentialName  = 64      // bytes of a credential name
	MaxCredentialApp   = 128     // bytes of the app a credential is bound to
	MaxACLBytes        = 1 << 20 // the encoded ACL as a whole
	TokenHashLen       = 32      // SHA-256
	credentialNameBits = "A-Z a-z 0-9 . _ -"
)

// ACL is the cluster's client credentials, part of the cluster config meta
// hands to sessions. With Enforce, every client must present the token of
// one of them; without it, a client that presents one is held to it and the
// others are not.
type ACL struct {
	Enforce     bool
	Credentials []Credential
}

// Credential lets an application's clients in: its token (kept as a hash),
// the app it is bound to and the dataIds it may publish and subscribe to.
type Credential struct {
	Name      string
	TokenHash [TokenHashLen]byte // SHA-256 of the token
	App       string
	// Publish and Subscribe are dataId patterns: "*" matches any run of
	// characters, "?" one; anything else matches itself. A dataId is the
	// part of a dataInfoId before its first "#@#".
	Publish, Subscribe []string
}

func (a *ACL) empty() bool { return !a.Enforce && len(a.Credentials) == 0 }

func (a *ACL) append(dst []byte) []byte {
	dst = appendBool(dst, a.Enforce)
	dst = appendUvarint(dst, uint64(len(a.Credentials)))
	for i := range a.Credentials {
		c := &a.Credentials[i]
		dst = appendString(dst, c.Name)
		dst = append(dst, c.TokenHash[:]...)
		dst = appendString(dst, c.App)
		dst = appendStrings(dst, c.Publish)
		dst = appendStrings(dst, c.Subscribe)
	}
	return dst
}

// minCredentialSize is the smallest encoding of a Credential: a one-byte
// name length, the hash, three more one-byte lengths.
const minCredentialSize = 1 + TokenHashLen + 3

func (a *ACL) read(r *reader) {
	a.Enforce = r.bool("acl enforce")
	n := r.count("credentials", minCredentialSize)
	if n > MaxCredentials {
		r.fail("credentials")
		return
	}
	a.Credentials = make([]Credential, n)
	for i := range a.Credentials {
		c := &a.Credentials[i]
		c.Name = r.string("credential name")
		r.fixed("token hash", c.TokenHash[:])
		c.App = r.string("credential app")
		c.Publish = r.strings("publish permissions", nil)
		c.Subscribe = r.strings("subscribe permissions", nil)
		if r.err == nil && c.Check() != nil {
			r.fail("credential")
		}
	}
	if n == 0 {
		a.Credentials = nil
	}
}

// Check reports why c must not be accepted: a name outside
// credentialNameBits or too long, no app or a long one, or too many or
// malformed patterns.
func (c *Credential) Check() error {
	bad := func(why string) error {
		return fmt.Errorf("cannot accept credential %q: %s: %w", c.Name, why, ErrInvalidCredential)
	}
	if c.Name == "" || len(c.Name) > MaxCredentialName {
		return bad(fmt.Sprintf("a name is 1 to %d bytes", MaxCredentialName))
	}
	for i := 0; i < len(c.Name); i++ {
		if b := c.Name[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') {
			return bad("a name is made of " + credentialNameBits)
		}
	}
	if c.App == "" || len(c.App) > MaxCredentialApp || strings.ContainsFunc(c.App, isControlOrSpace) {
		return bad(fmt.Sprintf("the app is 1 to %d bytes, without spaces", MaxCredentialApp))
	}
	for _, list := range [][]string{c.Publish, c.Subscribe} {
		if len(list) > MaxPermissions {
			return bad(fmt.Sprintf("%d patterns in one list, limit %d", len(list), MaxPermissions))
		}
		for _, p := range list {
			if p == "" || len(p) > MaxPatternLen || strings.ContainsFunc(p, isControlOrSpace) || strings.Contains(p, "#@#") {
				return bad(fmt.Sprintf("pattern %q: a pattern is 1 to %d bytes of a dataId (no spaces, no #@#)", p, MaxPatternLen))
			}
		}
	}
	return nil
}

func isControlOrSpace(r rune) bool { return r <= ' ' || r == 0x7f }
