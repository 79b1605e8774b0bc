package topics_test

import (
	"context"
	"fmt"
	"log"

	"github.com/rtgate/rtgate/topics"
)

// counter is a toy producer: its state is one number, which add
// increments (in real producers Run polls a backend instead).
type counter struct {
	inc chan chan struct{}
	n   int // guarded by the topic lock: changed in Update, read in Snapshot
}

// add asks Run to increment and waits until the change is published.
func (c *counter) add() {
	done := make(chan struct{})
	c.inc <- done
	<-done
}

func (c *counter) Run(ctx context.Context, t *topics.Topic) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case done := <-c.inc:
			err := t.Update(func() ([]byte, error) {
				c.n++
				return []byte(`{"add":1}`), nil
			})
			close(done)
			if err != nil {
				return err
			}
		}
	}
}

func (c *counter) Snapshot() ([]byte, error) {
	return fmt.Appendf(nil, `{"n":%d}`, c.n), nil
}

func Example() {
	c := &counter{inc: make(chan chan struct{})}
	hub := topics.NewHub(func(name string) (topics.Producer, error) {
		if name != "counter" {
			return nil, fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
		}
		return c, nil
	}, nil)
	defer hub.Close()

	sub := hub.NewSubscriber()
	defer sub.Close()
	if err := sub.Subscribe("counter", nil); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	m, _ := sub.Next(ctx)
	fmt.Println(m.Kind, m.Seq, string(m.Data))

	c.add()
	c.add()
	for range 2 {
		m, _ = sub.Next(ctx)
		fmt.Println(m.Kind, m.Seq, string(m.Data))
	}

	// A reconnecting client resumes from the last position it saw.
	last := m.Position()
	sub.Close()
	c.add()
	again := hub.NewSubscriber()
	defer again.Close()
	if err := again.Subscribe("counter", &last); err != nil {
		log.Fatal(err)
	}
	m, _ = again.Next(ctx)
	fmt.Println(m.Kind, m.Seq, string(m.Data), "recovered:", m.Recovered)
	// Output:
	// snapshot 0 {"n":0}
	// change 1 {"add":1}
	// change 2 {"add":1}
	// change 3 {"add":1} recovered: true
}
