#define _GNU_SOURCE
#include "CAffinity.h"
#include <errno.h>
#include <sched.h>
#include <sys/prctl.h>

int caff_attr_set_cpu(pthread_attr_t *attr, int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
        return EINVAL;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_attr_setaffinity_np(attr, sizeof(set), &set);
}

int caff_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int caff_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0) == 0 ? 0 : errno;
}

uint64_t caff_thread_id(void) {
    return (uint64_t)pthread_self();
}
