package client

import (
	"errors"

	"github.com/roster-registry/roster/proto"
)

var (
	// ErrClosed is returned by every operation on a closed Client.
	ErrClosed = errors.New("client closed")
	// ErrInvalid matches (errors.Is) every error of a request or a Config
	// that cannot succeed as it is, found by the client (the message names
	// the field) or refused by the session as a bad request: ErrInvalidDataID,
	// ErrInvalidScope, ErrNoSessions, ErrInvalidApp, ErrEmptyData and the
	// client's limits (which also match ErrTooLarge). It is never retried.
	ErrInvalid = errors.New("invalid")
	// ErrInvalidDataID is returned for an empty data id, a data id, group
	// or instance id containing the dataInfoId separator "#@#", or the three
	// over 512 bytes together. It matches ErrInvalid.
	ErrInvalidDataID error = invalidError("invalid data id")
	// ErrInvalidScope is returned for a Scope outside the known values. It
	// matches ErrInvalid.
	ErrInvalidScope error = invalidError("invalid scope")
	// ErrNoSessions is returned by New when the configuration names no
	// session address and no ServersURL, or the ServersURL lists none. It
	// matches ErrInvalid.
	ErrNoSessions error = invalidError("no session address")
	// ErrInvalidApp is returned by PublishApp for an App without an
	// address or services, with an interface listed twice, or in the
	// reserved group proto.AppGroup. It matches ErrInvalid.
	ErrInvalidApp error = invalidError("invalid app")
	// ErrEmptyData is returned by Publish and Republish for no data or an
	// empty entry: subscribers could not tell it from no publisher.
	// Unpublish removes a publication. It matches ErrInvalid.
	ErrEmptyData error = invalidError("empty data")
	// ErrUnpublished is returned by Republish after Unpublish.
	ErrUnpublished = errors.New("publisher already unpublished")
	// ErrUnsubscribed is returned by Unsubscribe called twice.
	ErrUnsubscribed = errors.New("subscriber already unsubscribed")
	// ErrUnauthorized matches (errors.Is) a ServerError with
	// proto.CodeUnauthorized: the session refused the token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited matches (errors.Is) a ServerError with
	// proto.CodeRateLimited: the session's registration rate limit (of this
	// connection or of the whole session) was hit. Publish, Subscribe and
	// the replay after a reconnect retry it with backoff; a caller sees it
	// only when its ctx ended while retrying, wrapped with the ctx's error.
	ErrRateLimited = errors.New("rate limited")
	// ErrTooLarge matches (errors.Is) a ServerError with
	// proto.CodeTooLarge: a publisher over the session's data size limit,
	// or one publisher too many on this connection. It is not retried; the
	// message names the limit, its value and the session flag setting it.
	ErrTooLarge = errors.New("over a session limit")
	// ErrUnavailable matches (errors.Is) a ServerError with
	// proto.CodeUnavailable, e.g. a session at its connection limit; the
	// client retries on the next session of its list.
	ErrUnavailable = errors.New("session unavailable")
	// ErrForbidden matches (errors.Is) a ServerError with
	// proto.CodeForbidden: the client's credential lacks the permission
	// (the message names it). It is not retried.
	ErrForbidden = errors.New("forbidden")
	// ErrOwned matches (errors.Is) a ServerError with proto.CodeOwned: the
	// registerId belongs to another client. A Publisher or Subscriber
	// first goes on under a new registerId; this is what is left when the
	// new one was refused too.
	ErrOwned = errors.New("registerId owned by another client")
	// ErrStaleVersion matches (errors.Is) a ServerError with
	// proto.CodeStaleVersion: the session holds a newer version of the
	// publisher than the one sent, even after the client re-asserted its
	// own above it.
	ErrStaleVersion = errors.New("stale version")
	// ErrTemporaryUnsupported is returned by PublishTemporary when the
	// session is older than temporary publications
	// (proto.VersionTemporary): it would not know what to do with one.
	ErrTemporaryUnsupported = errors.New("session does not support temporary publications")
)

// invalidError is a sentinel that also matches ErrInvalid.
type invalidError string

func (e invalidError) Error() string        { return string(e) }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

// ServerError is a request refused by the session. Use errors.As to read the
// code, or errors.Is with ErrInvalid (a bad request), ErrUnauthorized, ErrForbidden, ErrOwned, ErrRateLimited,
// ErrTooLarge, ErrUnavailable or ErrStaleVersion.
type ServerError struct {
	Code    proto.Code
	Message string
	Hint    string // e.g. the version held, for proto.CodeStaleVersion
}

// Error returns the code and the session's message, cut to a bounded
// length (a session may repeat the request's input).
func (e *ServerError) Error() string {
	if e.Message == "" {
		return "session refused: " + e.Code.String()
	}
	return "session refused: " + e.Code.String() + ": " + clip(e.Message)
}

// Is lets errors.Is match the sentinel of the error's code.
func (e *ServerError) Is(target error) bool {
	switch target {
	case ErrInvalid:
		return e.Code == proto.CodeBadRequest
	case ErrUnauthorized:
		return e.Code == proto.CodeUnauthorized
	case ErrRateLimited:
		return e.Code == proto.CodeRateLimited
	case ErrTooLarge:
		return e.Code == proto.CodeTooLarge
	case ErrUnavailable:
		return e.Code == proto.CodeUnavailable
	case ErrForbidden:
		return e.Code == proto.CodeForbidden
	case ErrOwned:
		return e.Code == proto.CodeOwned
	case ErrStaleVersion:
		return e.Code == proto.CodeStaleVersion
	}
	return false
}

// temporaryError is an error that ended in a temporary refusal, reported
// once the retries ran out: its text and errors.Is match the refusal (e.g.
// ErrRateLimited), but errors.As finds no *ServerError in it, which is kept
// for definite refusals (the session holds nothing of the request).
type temporaryError struct {
	err error
	se  *ServerError
}

func (e *temporaryError) Error() string        { return e.err.Error() }
func (e *temporaryError) Is(target error) bool { return e.se.Is(target) }

// temporary returns err as a temporaryError if it carries a refusal, and
// err itself otherwise.
func temporary(err error) error {
	if se := serverError(err); se != nil {
		return &temporaryError{err: err, se: se}
	}
	return err
}

// serverError returns the *ServerError in err's chain, converting a
// *proto.Result if need be; it returns nil when err carries neither.
func serverError(err error) *ServerError {
	if se, ok := errors.AsType[*ServerError](err); ok {
		return se
	}
	var r *proto.Result
	if !errors.As(err, &r) {
		return nil
	}
	return &ServerError{Code: r.Code, Message: r.Message, Hint: r.Hint}
}
