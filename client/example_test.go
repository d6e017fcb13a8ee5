package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/roster-registry/roster/client"
)

func ExampleDataInfoID() {
	id, err := client.DataInfoID("com.example.demo:1.0", "", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id)
	// Output: com.example.demo:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP
}

func ExampleUpdate_Addresses() {
	u := client.Update{Zones: map[string][]string{
		"zone-b": {"10.0.1.1:12200"},
		"zone-a": {"10.0.0.2:12200", "10.0.0.1:12200"},
	}}
	fmt.Println(u.Addresses())
	// Output: [10.0.0.1:12200 10.0.0.2:12200 10.0.1.1:12200]
}

// Publish a service address; it stays registered, across reconnects, until
// Unpublish or Close.
func ExampleClient_Publish() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Sessions: []string{"127.0.0.1:9600"}, AppName: "demo"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	pub, err := c.Publish(ctx, client.Publication{DataID: "com.example.demo:1.0", Data: []string{"10.0.0.1:12200"}})
	if err != nil {
		log.Fatal(err)
	}
	// Replace the published data: version 2.
	if err := pub.Republish(ctx, "10.0.0.1:12200?weight=50"); err != nil {
		log.Fatal(err)
	}
	if err := pub.Unpublish(ctx); err != nil {
		log.Fatal(err)
	}
}

// Subscribe to a service and print its addresses each time they change.
func ExampleClient_Subscribe() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Sessions: []string{"127.0.0.1:9600"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	sub, err := c.Subscribe(ctx, client.Subscription{DataID: "com.example.demo:1.0", Scope: client.ScopeDataCenter},
		func(u client.Update) {
			fmt.Println(u.Version, u.Addresses())
		})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Unsubscribe(context.Background())

	<-ctx.Done()
}

// Tell every current subscriber of a service of an event: a temporary
// publication is shown once to each, with the list it holds, and is never
// stored. Subscribers tell it apart by Update.Temporary.
func ExampleClient_PublishTemporary() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Sessions: []string{"127.0.0.1:9600"}, AppName: "demo"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	sub, err := c.Subscribe(ctx, client.Subscription{DataID: "com.example.cache:1.0", Scope: client.ScopeDataCenter},
		func(u client.Update) {
			for _, ev := range u.Temporary {
				fmt.Println("event", ev.Attrs["kind"], ev.Data)
			}
		})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Unsubscribe(context.Background())

	err = c.PublishTemporary(ctx, client.Publication{DataID: "com.example.cache:1.0",
		Data: []string{"flush"}, Attrs: map[string]string{"kind": "cache"}})
	if errors.Is(err, client.ErrTemporaryUnsupported) {
		log.Print("the session is too old for temporary publications")
	} else if err != nil {
		log.Fatal(err)
	}
}
