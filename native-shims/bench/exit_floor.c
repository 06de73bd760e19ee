/*
 * The floor for the VMM's exit round trip: the least a KVM user can do per exit. Loads the
 * benchmark guest (exit_guest.S, a flat multiboot a.out-kludge image) the way the Java VMM does
 * (in-kernel irqchip, supported CPUID, multiboot machine state) and times KVM_RUN round trips.
 *
 * Usage: exit_floor GUEST.bin [REPEATS] [--signal-mask]
 *   prints one line per repeat: "floor_ns_per_exit <ns> <exits>". With --signal-mask the vCPU
 *   also gets a KVM_SET_SIGNAL_MASK, as a VMM that kicks vCPUs with a blocked signal does, so the
 *   cost of that mask swap on every KVM_RUN can be told apart from the VMM's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (64UL << 20)
#define EXIT_PORT 0xF4
#define BENCH_PORT 0x80
#define END_PORT 0x81

static void die(const char *what) {
    fprintf(stderr, "exit_floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type) {
    memset(s, 0, sizeof *s);
    s->base = 0;
    s->limit = 0xFFFFFFFF;
    s->selector = selector;
    s->type = type;
    s->present = 1;
    s->dpl = 0;
    s->db = 1;
    s->s = 1;
    s->g = 1;
}

static int signal_mask;

static int run_once(int kvm, const uint8_t *image, size_t image_size) {
    const uint32_t *header = (const uint32_t *)image;
    if (image_size < 32 || header[0] != 0x1BADB002 || !(header[1] & 0x10000)) {
        fprintf(stderr, "exit_floor: not an a.out-kludge multiboot image\n");
        exit(1);
    }
    uint32_t load_addr = header[4], bss_end = header[6], entry = header[7];

    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) die("KVM_CREATE_VM");
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xFFFBD000UL) < 0) die("KVM_SET_TSS_ADDR");
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");

    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) die("mmap");
    if (load_addr + image_size > MEM_SIZE || bss_end > MEM_SIZE) {
        fprintf(stderr, "exit_floor: image does not fit\n");
        exit(1);
    }
    memcpy(mem + load_addr, image, image_size);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uint64_t)mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");

    /* CPUID before anything else on the vCPU (PLATFORM.md). */
    int n = 256;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + n * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = n;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2");
    free(cpuid);
    if (signal_mask) {
        /* The kernel's sigset is 8 bytes on x86-64; unblock everything inside KVM_RUN. */
        struct kvm_signal_mask *mask = calloc(1, sizeof *mask + 8);
        mask->len = 8;
        if (ioctl(vcpu, KVM_SET_SIGNAL_MASK, mask) < 0) die("KVM_SET_SIGNAL_MASK");
        free(mask);
    }

    /* Multiboot 0.6.96 §3.2 machine state. */
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
    flat_segment(&sregs.cs, 0x08, 0xB);
    flat_segment(&sregs.ds, 0x10, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.cr0 = 0x11;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
    struct kvm_regs regs = {.rip = entry, .rflags = 2, .rax = 0x2BADB002};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");

    long exits = 0;
    uint64_t start = 0, end = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR) continue;
            die("KVM_RUN");
        }
        if (run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "exit_floor: unexpected exit reason %u\n", run->exit_reason);
            exit(1);
        }
        if (run->io.port == EXIT_PORT) break;
        if (run->io.port == BENCH_PORT && exits++ == 0) start = now_ns();
        if (run->io.port == END_PORT) end = now_ns();
    }
    /* The clock starts at the first exit and stops at the END_PORT exit: `exits` round trips. */
    printf("floor_ns_per_exit %.1f %ld\n", exits > 0 ? (double)(end - start) / exits : 0.0, exits);
    munmap(run, run_size);
    munmap(mem, MEM_SIZE);
    close(vcpu);
    close(vm);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: exit_floor GUEST.bin [REPEATS]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) die(argv[1]);
    static uint8_t image[1 << 20];
    size_t size = fread(image, 1, sizeof image, f);
    fclose(f);
    int repeats = argc > 2 ? atoi(argv[2]) : 1;
    signal_mask = argc > 3 && strcmp(argv[3], "--signal-mask") == 0;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("/dev/kvm");
    for (int i = 0; i < repeats; i++) run_once(kvm, image, size);
    close(kvm);
    return 0;
}
