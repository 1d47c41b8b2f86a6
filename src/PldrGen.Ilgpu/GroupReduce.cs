using ILGPU;
using ILGPU.Algorithms;

namespace PldrGen.Ilgpu;

/// <summary>
/// Device functions shared by the kernels. The reductions are hand-written over shared memory (ILGPU.Algorithms'
/// group reductions do not compile on PoCL); every thread of the group must call them, and Group.DimX must be a
/// power of two.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated kernels, not by users
public static class GroupReduce
{
    /// <summary>The sum of <paramref name="value"/> over the group; <paramref name="partial"/> holds Group.DimX floats.</summary>
    public static float Sum(ArrayView<float> partial, float value)
    {
        int tid = Group.IdxX;
        partial[tid] = value;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride >>= 1)
        {
            if (tid < stride) partial[tid] += partial[tid + stride];
            Group.Barrier();
        }
        float total = partial[0];
        Group.Barrier(); // the next reduction may overwrite partial[0]
        return total;
    }

    /// <summary>The maximum of <paramref name="value"/> over the group; <paramref name="partial"/> holds Group.DimX floats.</summary>
    public static float Max(ArrayView<float> partial, float value)
    {
        int tid = Group.IdxX;
        partial[tid] = value;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride >>= 1)
        {
            if (tid < stride) partial[tid] = XMath.Max(partial[tid], partial[tid + stride]);
            Group.Barrier();
        }
        float max = partial[0];
        Group.Barrier();
        return max;
    }

    /// <summary>silu(z) = z·sigmoid(z), as the CPU reference writes it (float exp: XMath maps it to the device's).</summary>
    public static float Silu(float z) => z / (1f + XMath.Exp(-z));
}
