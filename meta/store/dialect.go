package store

import (
	"context"
	"database/sql"
	"strings"
)

// dialect is everything the two backends do differently. Placeholders are
// "?" in both; the rest of the SQL is shared and expanded from templates.
type dialect struct {
	name string
	// now is an SQL expression for the database's clock in unix microseconds.
	// Both engines evaluate it once per statement, so every use in one
	// statement sees the same instant.
	now          string
	keyType      string // a case-sensitive, byte-wise compared, indexable string
	blobType     string
	tableOptions string
	insertIgnore string // INSERT that skips rows whose key exists
	// upsertConfig is the tail after "INSERT INTO config (k, v, fence,
	// updated_at) VALUES (...)" that overwrites an existing row.
	upsertConfig string
	// lockSchema serialises migrations across processes where a transaction
	// cannot (MySQL commits implicitly around DDL); nil where it can.
	lockSchema func(ctx context.Context, c *sql.Conn) (unlock func(), err error)
}

// expand fills a SQL template's {placeholders} with the dialect's pieces.
func (d *dialect) expand(s string) string {
	return strings.NewReplacer(
		"{now}", d.now,
		"{key}", d.keyType,
		"{blob}", d.blobType,
		"{table_options}", d.tableOptions,
		"{insert_ignore}", d.insertIgnore,
		"{upsert_config}", d.upsertConfig,
	).Replace(s)
}

// queries are the dialect-expanded statements a store runs.
type queries struct {
	acquire, insertLease, release, readLease, now string
	raiseFence                                    string
	saveSlotTable, loadSlotTable                  string
	putConfig, getConfig, deleteConfig            string
	listConfig, listConfigFrom                    string
}

func (d *dialect) queries() queries {
	return queries{
		// MySQL assigns left to right and later assignments see earlier ones,
		// SQLite assigns from the old row: epoch goes first so both compare
		// against the old owner.
		acquire: d.expand(`UPDATE leader_lease
			SET epoch = CASE WHEN owner = ? THEN epoch ELSE epoch + 1 END, owner = ?, expires_at = {now} + ?
			WHERE name = ? AND (owner = ? OR expires_at <= {now})`),
		insertLease: d.expand(`{insert_ignore} INTO leader_lease (name, owner, epoch, expires_at) VALUES (?, '', 0, 0)`),
		release:     d.expand(`UPDATE leader_lease SET expires_at = {now} WHERE name = ? AND owner = ? AND expires_at > {now}`),
		readLease:   d.expand(`SELECT owner, epoch, expires_at, {now} FROM leader_lease WHERE name = ?`),
		now:         d.expand(`SELECT {now}`),

		raiseFence: `UPDATE write_fence SET fence = ? WHERE id = 1 AND fence <= ?`,

		saveSlotTable: `UPDATE slot_table SET epoch = ?, fence = ?, data = ?
			WHERE id = 1 AND (epoch < ? OR (epoch = ? AND data = ?))`,
		loadSlotTable: `SELECT epoch, data FROM slot_table WHERE id = 1`,

		putConfig:      d.expand(`INSERT INTO config (k, v, fence, updated_at) VALUES (?, ?, ?, {now}) {upsert_config}`),
		getConfig:      `SELECT v FROM config WHERE k = ?`,
		deleteConfig:   `DELETE FROM config WHERE k = ?`,
		listConfig:     `SELECT k, v FROM config WHERE k >= ? AND k < ? ORDER BY k`,
		listConfigFrom: `SELECT k, v FROM config WHERE k >= ? ORDER BY k`,
	}
}
