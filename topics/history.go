package topics

// entry is one published change. The same entry is referenced by the
// topic's history and by every subscriber queue it was put in, so it is
// never modified after it is made.
type entry struct {
	epoch string
	seq   uint64
	data  []byte
	err   error // only on Ended
}

// history is the tail of a topic's changes in the current epoch, kept for
// resumes. It holds consecutive seqs ending at the topic's current seq
// (or nothing), at most max entries and maxBytes bytes of data; the oldest
// go first. It is guarded by the topic's lock.
type history struct {
	max, maxBytes int
	ring          ring[*entry]
	bytes         int
}

func (h *history) push(e *entry) {
	if h.max <= 0 {
		return
	}
	h.ring.push(e)
	h.bytes += len(e.data)
	for h.ring.len() > h.max || (h.bytes > h.maxBytes && h.ring.len() > 0) {
		h.bytes -= len(h.ring.pop().data)
	}
}

func (h *history) reset() {
	h.ring.reset()
	h.bytes = 0
}

// since returns the entries after seq, given that cur is the topic's
// current seq, and whether they are all there: ok is false when seq is in
// the future or older changes than the history holds are missing. The
// slice is freshly made (nil when seq == cur).
func (h *history) since(seq, cur uint64) (es []*entry, ok bool) {
	switch {
	case seq > cur:
		return nil, false
	case seq == cur:
		return nil, true
	}
	n := h.ring.len()
	if uint64(n) < cur-seq {
		return nil, false
	}
	es = make([]*entry, 0, cur-seq)
	for i := n - int(cur-seq); i < n; i++ {
		es = append(es, *h.ring.at(i))
	}
	return es, true
}
