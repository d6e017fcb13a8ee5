package client_test

import (
	"context"
	"log"
	"time"

	"github.com/roster-registry/roster/client"
)

// Publish an application instance once for all its interfaces. Subscribers
// of com.example.Echo:1.0 receive "10.0.0.1:12200?timeout=3000", as if it
// had been published for that interface alone.
func ExampleClient_PublishApp() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Sessions: []string{"127.0.0.1:9600"}, AppName: "echo"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	app, err := c.PublishApp(ctx, client.App{Name: "echo", Address: "10.0.0.1:12200", Services: []client.AppService{
		{Interface: "com.example.Echo:1.0", Params: map[string]string{"timeout": "3000"}},
		{Interface: "com.example.Health:1.0"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	// Removes the instance from both interfaces.
	if err := app.Unpublish(ctx); err != nil {
		log.Fatal(err)
	}
}
