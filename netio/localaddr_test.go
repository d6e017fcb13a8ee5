package netio

import (
	"context"
	"errors"
	"testing"
)

func TestDialLinkBadLocalAddr(t *testing.T) {
	_, err := DialLink(context.Background(), "127.0.0.1:1", LinkConfig{LocalAddr: "not-an-ip"})
	if !errors.Is(err, ErrBadLocalAddr) {
		t.Fatalf("error %v, want ErrBadLocalAddr", err)
	}
}
