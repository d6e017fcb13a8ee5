package proto

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestRoleLogsByName: --log-format json printed "nodeRole":1.
func TestRoleLogsByName(t *testing.T) {
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "nodeRole", RoleData)
	if !strings.Contains(b.String(), `"nodeRole":"data"`) {
		t.Fatalf("JSON log %s: want the role by name", b.String())
	}
}
