package slotstore

import (
	"fmt"
	"hash/crc32"
	"strings"
)

// DefaultSlots is the number of slots of a cluster unless configured otherwise.
const DefaultSlots = 256

// Defaults and separator of dataInfoId parts, as in SOFARegistry.
const (
	DefaultInstanceID = "DEFAULT_INSTANCE_ID"
	DefaultGroup      = "DEFAULT_GROUP"
	Separator         = "#@#"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SlotOf returns the slot of dataInfoID: crc32c(dataInfoID) & (slots-1).
// slots must be a positive power of two; otherwise SlotOf returns 0.
func SlotOf(dataInfoID string, slots int) uint32 {
	if !validSlots(slots) {
		return 0
	}
	// crc32 only reads the bytes; viewing the string avoids a copy per call.
	return crc32.Checksum(unsafeBytes(dataInfoID), castagnoli) & uint32(slots-1)
}

func validSlots(slots int) bool {
	return slots > 0 && slots <= 1<<31 && slots&(slots-1) == 0
}

// DataInfoID joins the parts of a dataInfoId; an empty instanceID or group
// takes its default.
func DataInfoID(dataID, instanceID, group string) string {
	if instanceID == "" {
		instanceID = DefaultInstanceID
	}
	if group == "" {
		group = DefaultGroup
	}
	return dataID + Separator + instanceID + Separator + group
}

// ParseDataInfoID splits a dataInfoId made by DataInfoID. Every part must be
// non-empty and free of the separator.
func ParseDataInfoID(dataInfoID string) (dataID, instanceID, group string, err error) {
	dataID, rest, ok1 := strings.Cut(dataInfoID, Separator)
	instanceID, group, ok2 := strings.Cut(rest, Separator)
	if !ok1 || !ok2 || dataID == "" || instanceID == "" || group == "" || strings.Contains(group, Separator) {
		return "", "", "", fmt.Errorf("cannot parse data info id %q: %w", dataInfoID, ErrBadDataInfoID)
	}
	return dataID, instanceID, group, nil
}
