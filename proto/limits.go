package proto

// Limits of a registration that every session enforces (CodeBadRequest)
// and the SDK checks before sending (client.ErrTooLarge), one definition
// for both.
const (
	MaxIDLen      = 512      // bytes of a dataInfoId or registerId (and of a handshake's client id, app, zone)
	MaxDataItems  = 1024     // entries of one publisher's data
	MaxAttrs      = 64       // attributes of one publisher
	MaxAttrsBytes = 16 << 10 // keys and values of one publisher's attributes together
)
