/*
 * Floating-point workload for GccFloatTest: plain C double/float code as gcc -O2/-O3 compiles it
 * (scalar and, at -O3, packed SSE2 arithmetic, compares, conversions), run on the host processor
 * and on the emulated CPU; the eight 64-bit results must be bit-identical. Position independent,
 * freestanding, no calls out; MXCSR is saved and restored around the work.
 */
typedef unsigned long u64;

static inline unsigned get_mxcsr(void) { unsigned m; __asm__ volatile("stmxcsr %0" : "=m"(m)); return m; }
static inline void set_mxcsr(unsigned m) { __asm__ volatile("ldmxcsr %0" : : "m"(m)); }

static double series(int n, double x) {
    double s = 0, t = 1;
    for (int i = 1; i <= n; i++) {
        t = t * x / i;
        s += (i & 1) ? t : -t;
        s += 1.0 / ((double) i * i);
    }
    return s;
}

static double roots(int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += __builtin_sqrt((double) i * 3.25 + 0.5) - __builtin_sqrtf((float) i);
    return s;
}

static float floats(int n) {
    float f = 0.1f, g = 0;
    for (int i = 0; i < n; i++) {
        f = f * 1.0001f + 1.0f / (float) (i + 3);
        g += (f > 5.0f ? f - 5.0f : f) / 7.0f;
    }
    return g;
}

static double vectors(void) {
    double a[64], b[64], c[64];
    for (int i = 0; i < 64; i++) { a[i] = i * 0.1 - 2.5; b[i] = 1.0 / (i + 1); }
    for (int i = 0; i < 64; i++) c[i] = a[i] * b[i] + (a[i] < b[i] ? a[i] : b[i]) - (a[i] > 0 ? a[i] : -a[i]) / 3.0;
    double s = 0;
    for (int i = 0; i < 64; i++) s = s * 0.5 + c[i];
    return s;
}

static long integers(int n) {
    long acc = 0;
    double d = -1234.5678;
    for (int i = 0; i < n; i++) {
        d = d * -1.37 + (double) (acc & 0xFFFF) / 1000.0;
        acc += (long) d + (int) (float) d;
        if (d > 1e12 || d < -1e12) d = (double) (acc % 977) + 0.25;
    }
    return acc;
}

static double tiny(void) {
    volatile double x = 1e-300, y = 1e-20;
    double s = 0;
    for (int i = 0; i < 20; i++) { s += x * y; y *= 0.5; }
    return s + x * y * 1e10;
}

void kernel(u64 *out) {
    unsigned saved = get_mxcsr();
    union { double d; u64 u; } v;
    set_mxcsr(0x1F80);
    v.d = series(300, 1.5); out[0] = v.u;
    v.d = roots(500); out[1] = v.u;
    v.d = floats(400) + vectors(); out[2] = v.u;
    out[3] = (u64) integers(300);
    set_mxcsr(0x1F80 | 1 << 13);             /* round down */
    v.d = series(200, 0.7) + roots(50); out[4] = v.u;
    set_mxcsr(0x1F80 | 2 << 13);             /* round up */
    v.d = series(200, 0.7) + floats(100); out[5] = v.u;
    set_mxcsr(0x1F80 | 3 << 13 | 0x8000);    /* toward zero, flush to zero */
    v.d = tiny() + vectors(); out[6] = v.u;
    set_mxcsr(0x1F80 | 0x40);                /* denormals are zero */
    v.d = tiny();
    out[7] = v.u ^ (u64) get_mxcsr() << 32;
    set_mxcsr(saved);
}
