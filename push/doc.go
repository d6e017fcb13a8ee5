// Package push holds the session's push machinery that does not depend on
// sessions: the change debouncer (bursts of changes to one dataInfoId merge
// into one fetch), delta computation between two versions of a publisher
// list, and the push metrics.
package push
