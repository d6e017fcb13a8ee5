package client

import (
	"errors"

	"github.com/roster-registry/roster/proto"
)

var (
	// ErrClosed is returned by every operation on a closed Client.
	ErrClosed = errors.New("client closed")
	// ErrInvalidDataID is returned for an empty data id, or a data id, group
	// or instance id containing the dataInfoId separator "#@#".
	ErrInvalidDataID = errors.New("invalid data id")
	// ErrInvalidScope is returned for a Scope outside the known values.
	ErrInvalidScope = errors.New("invalid scope")
	// ErrNoSessions is returned by New when the configuration names no
	// session address and no ServersURL, or the ServersURL lists none.
	ErrNoSessions = errors.New("no session address")
	// ErrInvalidApp is returned by PublishApp for an App without an
	// address or services, with an interface listed twice, or in the
	// reserved group proto.AppGroup.
	ErrInvalidApp = errors.New("invalid app")
	// ErrUnpublished is returned by Republish after Unpublish.
	ErrUnpublished = errors.New("publisher already unpublished")
	// ErrUnsubscribed is returned by Unsubscribe called twice.
	ErrUnsubscribed = errors.New("subscriber already unsubscribed")
	// ErrUnauthorized matches (errors.Is) a ServerError with
	// proto.CodeUnauthorized: the session refused the token.
	ErrUnauthorized = errors.New("unauthorized")
)

// ServerError is a request refused by the session. Use errors.As to read the
// code; errors.Is(err, ErrUnauthorized) tests for a refused token.
type ServerError struct {
	Code    proto.Code
	Message string
}

// Error returns the code and the session's message.
func (e *ServerError) Error() string {
	if e.Message == "" {
		return "session refused: " + e.Code.String()
	}
	return "session refused: " + e.Code.String() + ": " + e.Message
}

// Is lets errors.Is match the sentinel of the error's code.
func (e *ServerError) Is(target error) bool {
	return target == ErrUnauthorized && e.Code == proto.CodeUnauthorized
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
	return &ServerError{Code: r.Code, Message: r.Message}
}
