package dev.jkvm.klib.compiler.samples;

/**
 * Every static JDK helper the Java subset compiles, one method each: the README's list of them
 * ("JDK helpers that compile") is checked against the calls in this class, and each runs
 * compiled against the JVM (JdkHelpersTest). JDK methods that allocate (Math.addExact and the
 * other *Exact methods, Math.clamp) or reach objects (Character.isDigit) are not here.
 */
public final class JdkHelpers {
    private JdkHelpers() {
    }

    public static long mathAbsInt(int a) {
        return Math.abs(a);
    }

    public static long mathAbs(long a) {
        return Math.abs(a);
    }

    public static long mathMaxInt(int a, int b) {
        return Math.max(a, b);
    }

    public static long mathMax(long a, long b) {
        return Math.max(a, b);
    }

    public static long mathMinInt(int a, int b) {
        return Math.min(a, b);
    }

    public static long mathMin(long a, long b) {
        return Math.min(a, b);
    }

    public static long mathFloorDiv(long a, long b) {
        return Math.floorDiv(a, b);
    }

    public static long mathFloorMod(long a, long b) {
        return Math.floorMod(a, b);
    }

    public static long mathFloorDivInt(int a, int b) {
        return Math.floorDiv(a, b);
    }

    public static long mathFloorModInt(int a, int b) {
        return Math.floorMod(a, b);
    }

    public static long mathMultiplyHigh(long a, long b) {
        return Math.multiplyHigh(a, b);
    }

    public static long mathUnsignedMultiplyHigh(long a, long b) {
        return Math.unsignedMultiplyHigh(a, b);
    }

    public static long longBitCount(long a) {
        return Long.bitCount(a);
    }

    public static long longNumberOfLeadingZeros(long a) {
        return Long.numberOfLeadingZeros(a);
    }

    public static long longNumberOfTrailingZeros(long a) {
        return Long.numberOfTrailingZeros(a);
    }

    public static long longRotateLeft(long a, int b) {
        return Long.rotateLeft(a, b);
    }

    public static long longRotateRight(long a, int b) {
        return Long.rotateRight(a, b);
    }

    public static long longReverse(long a) {
        return Long.reverse(a);
    }

    public static long longReverseBytes(long a) {
        return Long.reverseBytes(a);
    }

    public static long longHighestOneBit(long a) {
        return Long.highestOneBit(a);
    }

    public static long longLowestOneBit(long a) {
        return Long.lowestOneBit(a);
    }

    public static long longSignum(long a) {
        return Long.signum(a);
    }

    public static long longCompare(long a, long b) {
        return Long.compare(a, b);
    }

    public static long longCompareUnsigned(long a, long b) {
        return Long.compareUnsigned(a, b);
    }

    public static long longDivideUnsigned(long a, long b) {
        return Long.divideUnsigned(a, b);
    }

    public static long longRemainderUnsigned(long a, long b) {
        return Long.remainderUnsigned(a, b);
    }

    public static long longSum(long a, long b) {
        return Long.sum(a, b);
    }

    public static long longMax(long a, long b) {
        return Long.max(a, b);
    }

    public static long longMin(long a, long b) {
        return Long.min(a, b);
    }

    public static long integerBitCount(int a) {
        return Integer.bitCount(a);
    }

    public static long integerNumberOfLeadingZeros(int a) {
        return Integer.numberOfLeadingZeros(a);
    }

    public static long integerNumberOfTrailingZeros(int a) {
        return Integer.numberOfTrailingZeros(a);
    }

    public static long integerRotateLeft(int a, int b) {
        return Integer.rotateLeft(a, b);
    }

    public static long integerRotateRight(int a, int b) {
        return Integer.rotateRight(a, b);
    }

    public static long integerReverse(int a) {
        return Integer.reverse(a);
    }

    public static long integerReverseBytes(int a) {
        return Integer.reverseBytes(a);
    }

    public static long integerSignum(int a) {
        return Integer.signum(a);
    }

    public static long integerCompare(int a, int b) {
        return Integer.compare(a, b);
    }

    public static long integerCompareUnsigned(int a, int b) {
        return Integer.compareUnsigned(a, b);
    }

    public static long integerDivideUnsigned(int a, int b) {
        return Integer.divideUnsigned(a, b);
    }

    public static long integerRemainderUnsigned(int a, int b) {
        return Integer.remainderUnsigned(a, b);
    }

    public static long integerToUnsignedLong(int a) {
        return Integer.toUnsignedLong(a);
    }

    public static long longHashCode(long a) {
        return Long.hashCode(a);
    }

    public static long integerHashCode(int a) {
        return Integer.hashCode(a);
    }

    public static long booleanCompare(boolean a, boolean b) {
        return Boolean.compare(a, b);
    }

    public static long shortToUnsignedInt(short a) {
        return Short.toUnsignedInt(a);
    }

    public static long byteToUnsignedInt(byte a) {
        return Byte.toUnsignedInt(a);
    }

    public static long characterReverseBytes(char a) {
        return Character.reverseBytes(a);
    }

    public static long mathCeilDiv(long a, long b) {
        return Math.ceilDiv(a, b);
    }
}
