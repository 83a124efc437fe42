// Package nemesis is the nemesis of a test: the faults it injects
// (Maelstrom's network partitions, and glomers' extra kill and pause
// faults) and the loop that carries them out.
//
// The fault plans are pure logic: which links a partition cuts (a
// Grudge, drawn by RandomPartition), which node a kill or pause targets
// (PickTarget), when a fault acts next (a Schedule), and fixed plans
// written as data (a Plan, replayed instead of random faults). All
// randomness comes from a *rand.Rand the caller passes in, so a run is
// repeatable from its seed.
//
// Loop carries the plans out over a test's main phase, one operation at
// a time on Jepsen's single nemesis thread, and ends every fault before
// the final phase (EndAll). It acts only through a Target, which the
// test runner implements: partition, heal, kill, restart, pause, resume,
// and record each operation in the history. Loop reads the clock and
// sleeps, so inside a testing/synctest bubble it runs in virtual time.
package nemesis
