package topics

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownTopic is what a Factory wraps when it has no producer for a
// name; Subscribe returns that error as is.
var ErrUnknownTopic = errors.New("topics: unknown topic")

// ErrInvalidTopic is wrapped by Subscribe when a name is empty, longer than
// 200 bytes, or holds anything but printable ASCII without spaces.
var ErrInvalidTopic = errors.New("topics: invalid topic name")

// ErrAlreadySubscribed is wrapped by Subscribe when the subscriber already
// has that topic.
var ErrAlreadySubscribed = errors.New("topics: already subscribed")

// ErrNotSubscribed is wrapped by Unsubscribe when the subscriber does not
// have that topic (any more: once Next has returned a topic's Ended, the
// topic is gone too).
var ErrNotSubscribed = errors.New("topics: not subscribed")

// ErrClosed matches, with errors.Is, every *CloseError: what a closed
// Subscriber returns from Subscribe, Unsubscribe, Next and Err.
var ErrClosed = errors.New("topics: subscriber closed")

// ErrStopped is returned by Topic.Update and Topic.Reset once the topic's
// producer has been told to stop (its context is cancelled), and is the Err
// of an Ended message when a producer's Run returned nil on its own.
var ErrStopped = errors.New("topics: topic stopped")

// Reason says why a Subscriber was closed. The gateway maps each value to
// a protocol close code; they are part of the API and will not be
// renumbered.
type Reason uint8

const (
	// ReasonClosed: the subscriber's owner called Close.
	ReasonClosed Reason = iota + 1
	// ReasonSlow: a change did not fit in the subscriber's queue
	// (Options.QueueBytes) because it was not read fast enough. The
	// subscriber can resume from CloseError.Positions.
	ReasonSlow
	// ReasonHubClosed: the Hub was closed.
	ReasonHubClosed
)

// String returns "closed", "slow" or "hub closed".
func (r Reason) String() string {
	switch r {
	case ReasonClosed:
		return "closed"
	case ReasonSlow:
		return "slow"
	case ReasonHubClosed:
		return "hub closed"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// CloseError is what a closed Subscriber returns. It is never modified
// after it is made, so it may be shared between goroutines.
type CloseError struct {
	Reason Reason

	// Topic is the topic whose change overflowed the queue, for ReasonSlow;
	// empty otherwise.
	Topic string

	// Positions holds, per topic the subscriber had at the time it was
	// closed, the position its client's state is at: that of the last
	// message Next returned for the topic, or the position given to
	// Subscribe when Next has returned nothing for the topic since. A topic
	// subscribed without a position whose snapshot Next has not returned
	// yet is absent, as is one that ended. Resuming from these positions
	// replays exactly what the client missed, if the topic's history still
	// holds it. Never nil.
	Positions map[string]Position
}

// Error returns a short description such as
// "topics: subscriber closed: slow (topic torrents)".
func (e *CloseError) Error() string {
	var b strings.Builder
	b.WriteString("topics: subscriber closed: ")
	b.WriteString(e.Reason.String())
	if e.Topic != "" {
		b.WriteString(" (topic ")
		b.WriteString(e.Topic)
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is ErrClosed.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }
