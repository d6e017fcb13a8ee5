package client

import (
	"fmt"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// Defaults of the dataInfoId parts and of the client's zone, as in SOFARegistry.
const (
	DefaultInstanceID = "DEFAULT_INSTANCE_ID"
	DefaultGroup      = "DEFAULT_GROUP"
	DefaultZone       = "DEFAULT_ZONE"
)

const dataInfoSep = "#@#"

// DataInfoID returns dataID + "#@#" + instanceID + "#@#" + group, the key
// under which the registry stores a service. Empty instanceID and group take
// their defaults. It fails with ErrInvalidDataID for an empty dataID or a
// part that contains the separator, or parts over 512 bytes together (that
// error also matches ErrTooLarge).
func DataInfoID(dataID, instanceID, group string) (string, error) {
	if strings.TrimSpace(dataID) == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidDataID)
	}
	if instanceID == "" {
		instanceID = DefaultInstanceID
	}
	if group == "" {
		group = DefaultGroup
	}
	for _, part := range [...]string{dataID, instanceID, group} {
		if strings.Contains(part, dataInfoSep) {
			return "", fmt.Errorf("%w: %q contains %q", ErrInvalidDataID, clip(part), dataInfoSep)
		}
	}
	id := dataID + dataInfoSep + instanceID + dataInfoSep + group
	if len(id) > proto.MaxIDLen {
		return "", &limitError{fmt.Sprintf("data id, instance id and group are %d bytes together, limit %d", len(id), proto.MaxIDLen), ErrInvalidDataID}
	}
	return id, nil
}
