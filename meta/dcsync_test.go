package meta

import (
	"encoding/json"
	"testing"
)

func TestDCImportAnswerForms(t *testing.T) {
	for _, body := range []string{
		`{"dataCenter":"dc2","remotes":[{"name":"dc1","linkUp":true,"publishers":3}]}`,
		` [{"name":"dc1","linkUp":true,"publishers":3}]`,
	} {
		var a dcImportAnswer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if len(a) != 1 || a[0].Name != "dc1" || !a[0].LinkUp || a[0].Publishers != 3 {
			t.Fatalf("%s: %+v", body, a)
		}
	}
	var a dcImportAnswer
	if err := json.Unmarshal([]byte(`"x"`), &a); err == nil {
		t.Fatal("a string decoded")
	}
}
