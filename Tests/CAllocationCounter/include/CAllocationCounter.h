// Counts heap allocations made on the calling thread while enabled, by
// interposing malloc and friends (defined in the test executable, they take precedence
// over libc's for every shared library) and forwarding to glibc.
#ifndef CALLOCATION_COUNTER_H
#define CALLOCATION_COUNTER_H
void allocation_counter_start(void);
/// Stops counting and returns the number of allocations since start.
long allocation_counter_stop(void);
#endif
