package topics

// ring is a FIFO on a slice: push at the back, pop at the front, without
// reallocating in the steady state. Both a subscriber's queue and a topic's
// history are rings. It is not safe for concurrent use.
type ring[T any] struct {
	buf  []T
	head int // buf[head:] are the elements
}

// shrinkCap is the capacity above which an emptied ring lets its buffer
// go, so that one burst does not pin memory for the life of a connection.
const shrinkCap = 256

func (r *ring[T]) len() int { return len(r.buf) - r.head }

func (r *ring[T]) push(v T) {
	if len(r.buf) == cap(r.buf) && r.head > 0 && r.head >= len(r.buf)/2 {
		// Slide down instead of growing: at least half the buffer is free.
		n := copy(r.buf, r.buf[r.head:])
		clear(r.buf[n:])
		r.buf = r.buf[:n]
		r.head = 0
	}
	r.buf = append(r.buf, v)
}

// front returns the first element; the ring must not be empty.
func (r *ring[T]) front() *T { return &r.buf[r.head] }

// at returns the i-th element from the front.
func (r *ring[T]) at(i int) *T { return &r.buf[r.head+i] }

// pop removes and returns the first element; the ring must not be empty.
func (r *ring[T]) pop() T {
	v := r.buf[r.head]
	var zero T
	r.buf[r.head] = zero // drop references
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
		if cap(r.buf) > shrinkCap {
			r.buf = nil
		} else {
			r.buf = r.buf[:0]
		}
	}
	return v
}

// reset empties the ring and lets its buffer go.
func (r *ring[T]) reset() {
	r.buf = nil
	r.head = 0
}

// filter keeps, in order, the elements for which keep returns true.
func (r *ring[T]) filter(keep func(*T) bool) {
	n := 0
	for i := r.head; i < len(r.buf); i++ {
		if keep(&r.buf[i]) {
			r.buf[n] = r.buf[i]
			n++
		}
	}
	clear(r.buf[n:])
	r.buf = r.buf[:n]
	r.head = 0
}
