package faulty

import "github.com/glomers/glomers/node"

// kafkaExplainFaults are the broken kafka logs the explanations are
// tested against, besides those of kafkaFaults.
func kafkaExplainFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"kafka-skipped-offsets": KafkaSkippedOffsets,
	}
}

// KafkaSkippedOffsets is a single log with holes: it acknowledges every
// send with the next offset of its key, but never serves offsets 6, 13,
// 20, … (every seventh): polls jump over them. So those messages are
// lost although the log said it kept them, which the checker reports as
// :lost-write when later messages of the key are polled and as :unseen,
// besides the skips inside polls.
func KafkaSkippedOffsets(n *node.Node) {
	l := newKafkaLog(n)
	l.filter = func(pairs [][2]any) [][2]any {
		kept := pairs[:0:0]
		for _, p := range pairs {
			if off, _ := p[0].(int64); off%7 != 6 {
				kept = append(kept, p)
			}
		}
		return kept
	}
}
