package proccluster

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// abortError makes Poll give up at once.
type abortError struct{ err error }

func (e *abortError) Error() string { return e.err.Error() }
func (e *abortError) Unwrap() error { return e.err }

// Abort wraps err so that Poll returns it at once instead of polling on.
func Abort(err error) error { return &abortError{err: err} }

// Poll calls cond every interval until it returns true, returns an error
// made by Abort, or ctx ends. Other errors count as "not yet": on ctx's end
// the error names what was awaited and the last error cond reported.
func Poll(ctx context.Context, interval time.Duration, what string, cond func(ctx context.Context) (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if ae := (*abortError)(nil); errors.As(err, &ae) {
			return fmt.Errorf("cannot wait for %s: %w", what, ae.err)
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("cannot wait for %s: %w (last error: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("cannot wait for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
