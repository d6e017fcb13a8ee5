package proccluster

import "errors"

var (
	// ErrNotRunning is returned when a signal is sent to a process that is not running.
	ErrNotRunning = errors.New("process is not running")
	// ErrNoMariaDB is returned when mariadbd or mariadb-install-db is not installed.
	ErrNoMariaDB = errors.New("mariadbd and mariadb-install-db are not installed")
	// ErrNoLeader is returned when no running meta node says it leads.
	ErrNoLeader = errors.New("no meta node leads")
	// ErrOptions is returned by Start when a required option is missing.
	ErrOptions = errors.New("missing cluster option")
	// ErrDatabaseName is returned for a database name other than letters, digits and _.
	ErrDatabaseName = errors.New("database names are letters, digits and _ only")
)
