using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// The prefill path for float32 and 16-bit weights: many rows against many panels in register tiles. With AVX-512 a
/// tile is 6 rows × 4 panels (24 zmm accumulators; per input, 4 weight loads meet 6 broadcasts), otherwise 6 rows × 1
/// panel in Vector256 (<see cref="Tile"/>). In a tile every output is one fused multiply-add chain over the inputs in
/// order, then + bias, on every path (a panel group's tail repeats its last panel and keeps only the valid outputs);
/// the rows past the last whole tile (rows mod 6) run as <see cref="Row"/>. So neither the instruction set nor the
/// panel grouping changes a bit. The work is split across the cores in items of one panel group × one block of rows,
/// so a product with few panels (the metric learner's dk outputs) keeps every core busy too; int8 products take the
/// same items, one panel wide (their tiles are in MatMul.Int8.cs).
/// </summary>
static unsafe partial class MatMul
{
    const int WidePanels = 4;

    /// <summary>Panels per tile: 4 where AVX-512 runs natively, else 1.</summary>
    static readonly int TilePanels = Vector512.IsHardwareAccelerated ? WidePanels : 1;

    /// <summary>A multi-row product cut into items: panel group item / RowBlocks (of GroupPanels panels), row block
    /// item % RowBlocks (of RowBlock rows, whole tiles). With Up, a gated product: Job is the gate, whose Y gets
    /// silu(gate)·up.</summary>
    struct GemmJob
    {
        public Job* Job, Up;
        public int GroupPanels, RowBlocks, RowBlock;
    }

    /// <summary>
    /// y = silu(x·W1ᵀ + b1) ⊙ (x·W2ᵀ + b2) for more than one row, the first half of a GLU: each tile of the gate
    /// product is followed by the same tile of the up product, and the gate is applied as they are stored, so
    /// neither product is written out and read back. Each sum is the bits <see cref="Linear"/> gives, the gate
    /// the formula of <see cref="Vec.SiluGate(Vector256{float}, Vector256{float})"/> in every lane. Float32 and 16-bit weights (<see cref="CanGate"/>).
    /// </summary>
    public static void GatedLinear(ReadOnlySpan<float> x, int rows, WeightMatrix w1, float[]? b1, WeightMatrix w2, float[]? b2, Span<float> y)
    {
        if (!CanGate(rows, w1, w2)) throw new ArgumentException("GatedLinear: two float32 or 16-bit matrices of one shape, more than one row");
        fixed (float* px = x.Slice(0, rows * w1.Cols), pb1 = b1, pb2 = b2, py = y.Slice(0, rows * w1.Rows))
        {
            var gate = NewJob(px, pb1, py, rows, w1, rowByRow: false, int8: null);
            var up = NewJob(px, pb2, null, rows, w2, rowByRow: false, int8: null);
            Gemm(&gate, w1.Panels, &up);
        }
        GC.KeepAlive(w1); // the kernels held raw pointers into their native panels
        GC.KeepAlive(w2);
    }

    /// <summary>Whether <see cref="GatedLinear"/> takes these products.</summary>
    public static bool CanGate(int rows, WeightMatrix w1, WeightMatrix w2) =>
        rows > 1 && w1.Precision == w2.Precision && w1.Precision != WeightPrecision.Int8 && w1.Rows == w2.Rows && w1.Cols == w2.Cols;

    /// <summary>y = x·Wᵀ + bias for more than one row (int8: panel by panel, MatMul.Int8.cs); gated with <paramref name="up"/>.</summary>
    static void Gemm(Job* job, int panels, Job* up = null)
    {
        int groupPanels = job->WInt8 is not null ? 1 : TilePanels, tileRows = job->WInt8 is not null ? Int8TileRows : TileRows;
        int groups = (panels + groupPanels - 1) / groupPanels, tiles = (job->Rows + tileRows - 1) / tileRows;
        int threads = CpuWorkers.SharedThreads;
        // Enough items per core that the last one left waiting is short; row blocks only where panel groups are few.
        int rowBlocks = groups >= 4 * threads ? 1 : Math.Min(tiles, (8 * threads + groups - 1) / groups);
        int rowBlock = (tiles + rowBlocks - 1) / rowBlocks * tileRows;
        var gemm = new GemmJob { Job = job, Up = up, GroupPanels = groupPanels, RowBlock = rowBlock, RowBlocks = (job->Rows + rowBlock - 1) / rowBlock };
        int items = groups * gemm.RowBlocks;
        if ((long)job->Rows * job->Out * job->In < 1 << 16) GemmItems(&gemm, 0, items); // not worth waking the workers
        else CpuWorkers.Shared.For(items, 1, &GemmItems, &gemm);
    }

    static void GemmItems(void* state, int start, int end)
    {
        var gemm = (GemmJob*)state;
        Job* job = gemm->Job, up = gemm->Up;
        int k = job->In, totalPanels = (job->Out + Width - 1) / Width;
        float* tile = stackalloc float[TileRows * WidePanels * Width];
        float* upTile = stackalloc float[up is null ? 0 : TileRows * WidePanels * Width];
        for (int item = start; item < end; item++)
        {
            int p = item / gemm->RowBlocks * gemm->GroupPanels, panels = Math.Min(gemm->GroupPanels, totalPanels - p);
            int first = item % gemm->RowBlocks * gemm->RowBlock, last = Math.Min(job->Rows, first + gemm->RowBlock);
            if (job->WInt8 is not null)
            {
                Int8Panel(job, p, first, last, tile);
                continue;
            }
            long stride = job->W is not null ? job->PanelSize : (long)k * Width;
            float* w = GroupPanelsFloat32(job, p, panels, up: false);
            float* wUp = up is null ? null : GroupPanelsFloat32(up, p, panels, up: true);
            int tiled = job->Rows - job->Rows % TileRows; // row blocks are whole tiles, so only the last block has a tail
            int t = first;
            for (; t + TileRows <= Math.Min(last, tiled); t += TileRows)
            {
                TileOf(job->X + (long)t * k, k, w, stride, panels, tile);
                if (up is not null) TileOf(job->X + (long)t * k, k, wUp, stride, panels, upTile);
                for (int r = 0; r < TileRows; r++)
                    for (int q = 0; q < panels; q++)
                    {
                        int at = (r * TilePanels + q) * Width;
                        if (up is null) StorePanel(job, t + r, p + q, tile + at);
                        else StoreGated(job, up, t + r, p + q, tile + at, upTile + at);
                    }
            }
            for (; t < last; t++)
                for (int q = 0; q < panels; q++)
                {
                    Row(job->X + (long)t * k, w + q * stride, k, tile);
                    if (up is null)
                    {
                        StorePanel(job, t, p + q, tile);
                        continue;
                    }
                    Row(job->X + (long)t * k, wUp + q * stride, k, upTile);
                    StoreGated(job, up, t, p + q, tile, upTile);
                }
        }
    }

    /// <summary>The float32 panels of group p: the matrix's own, or a 16-bit group widened into this thread's scratch.</summary>
    static float* GroupPanelsFloat32(Job* job, int p, int panels, bool up) =>
        job->W is not null ? job->W + p * job->PanelSize
        : job->Half ? Widen<HalfBits>(job->W16 + p * job->PanelSize, job->In, panels, job->PanelSize, up)
        : Widen<BFloat16Bits>(job->W16 + p * job->PanelSize, job->In, panels, job->PanelSize, up);

    /// <summary>A tile of 6 rows × the group's panels: 4 in zmm registers where AVX-512 runs, else 1.</summary>
    static void TileOf(float* x, int k, float* w, long stride, int panels, float* tile)
    {
        if (TilePanels == 1) Tile(x, k, w, tile);
        else WideTile(x, k, w, stride, panels, tile);
    }

    /// <summary>Row t at panel p of a gated product; a last panel of fewer than 16 outputs goes through zero-padded copies.</summary>
    static void StoreGated(Job* gate, Job* up, int t, int p, float* gateSums, float* upSums)
    {
        int o = p * Width, valid = Math.Min(Width, gate->Out - o);
        float* y = gate->Y + (long)t * gate->Out + o;
        if (valid == Width)
        {
            for (int half = 0; half < Width; half += 8)
                GateEight(gateSums + half, gate->Bias is null ? null : gate->Bias + o + half, upSums + half, up->Bias is null ? null : up->Bias + o + half, y + half);
            return;
        }
        float* padded = stackalloc float[5 * Width]; // gate sums, b1, up sums, b2, result
        new Span<float>(padded, 5 * Width).Clear();
        for (int j = 0; j < valid; j++)
        {
            padded[j] = gateSums[j];
            padded[2 * Width + j] = upSums[j];
            if (gate->Bias is not null) padded[Width + j] = gate->Bias[o + j];
            if (up->Bias is not null) padded[3 * Width + j] = up->Bias[o + j];
        }
        for (int half = 0; half < Width; half += 8)
            GateEight(padded + half, gate->Bias is null ? null : padded + Width + half, padded + 2 * Width + half,
                up->Bias is null ? null : padded + 3 * Width + half, padded + 4 * Width + half);
        for (int j = 0; j < valid; j++) y[j] = padded[4 * Width + j];
    }

    /// <summary>y = g·u / (1 + e^−g) for g = sums + b1, u = sums + b2 (a null bias adds nothing), as <see cref="Vec.SiluGate(Vector256{float}, Vector256{float})"/> computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GateEight(float* gateSums, float* b1, float* upSums, float* b2, float* y)
    {
        var g = Vector256.Load(gateSums);
        if (b1 is not null) g += Vector256.Load(b1);
        var u = Vector256.Load(upSums);
        if (b2 is not null) u += Vector256.Load(b2);
        Vec.SiluGate(g, u).Store(y);
    }

    /// <summary>Row t's sums at panel p's valid outputs, plus the bias, a whole panel in two vectors: the metric
    /// learner's products have k = 64, short enough that a scalar store loop would be a large share of a tile.</summary>
    static void StorePanel(Job* job, int t, int p, float* sums)
    {
        int o = p * Width;
        float* y = job->Y + (long)t * job->Out + o;
        if (job->Out - o < Width) Store(sums, job->Out - o, job->Bias, o, y);
        else if (job->Bias is null)
        {
            Vector256.Load(sums).Store(y);
            Vector256.Load(sums + 8).Store(y + 8);
        }
        else
        {
            (Vector256.Load(sums) + Vector256.Load(job->Bias + o)).Store(y);
            (Vector256.Load(sums + 8) + Vector256.Load(job->Bias + o + 8)).Store(y + 8);
        }
    }

    /// <summary>
    /// y[r, q·16 .. q·16 + 16) = x[r]·W[panel q]ᵀ for 6 rows × 4 panels (panel q at w + q·stride; of a group of
    /// fewer, the last repeats): each input's 4 weight vectors meet 6 broadcasts in 24 zmm accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WideTile(float* x, int k, float* w, long stride, int panels, float* y)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default, c50 = default, c51 = default, c52 = default, c53 = default;
        float* x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k, x4 = x + 4 * k, x5 = x + 5 * k;
        float* w0 = w, w1 = w + Math.Min(1, panels - 1) * stride, w2 = w + Math.Min(2, panels - 1) * stride, w3 = w + Math.Min(3, panels - 1) * stride;
        for (long i = 0; i < k; i++)
        {
            long at = i * Width;
            var v0 = Vector512.Load(w0 + at); var v1 = Vector512.Load(w1 + at); var v2 = Vector512.Load(w2 + at); var v3 = Vector512.Load(w3 + at);
            var a = Vector512.Create(x0[i]);
            c00 = Vector512.FusedMultiplyAdd(a, v0, c00); c01 = Vector512.FusedMultiplyAdd(a, v1, c01); c02 = Vector512.FusedMultiplyAdd(a, v2, c02); c03 = Vector512.FusedMultiplyAdd(a, v3, c03);
            a = Vector512.Create(x1[i]);
            c10 = Vector512.FusedMultiplyAdd(a, v0, c10); c11 = Vector512.FusedMultiplyAdd(a, v1, c11); c12 = Vector512.FusedMultiplyAdd(a, v2, c12); c13 = Vector512.FusedMultiplyAdd(a, v3, c13);
            a = Vector512.Create(x2[i]);
            c20 = Vector512.FusedMultiplyAdd(a, v0, c20); c21 = Vector512.FusedMultiplyAdd(a, v1, c21); c22 = Vector512.FusedMultiplyAdd(a, v2, c22); c23 = Vector512.FusedMultiplyAdd(a, v3, c23);
            a = Vector512.Create(x3[i]);
            c30 = Vector512.FusedMultiplyAdd(a, v0, c30); c31 = Vector512.FusedMultiplyAdd(a, v1, c31); c32 = Vector512.FusedMultiplyAdd(a, v2, c32); c33 = Vector512.FusedMultiplyAdd(a, v3, c33);
            a = Vector512.Create(x4[i]);
            c40 = Vector512.FusedMultiplyAdd(a, v0, c40); c41 = Vector512.FusedMultiplyAdd(a, v1, c41); c42 = Vector512.FusedMultiplyAdd(a, v2, c42); c43 = Vector512.FusedMultiplyAdd(a, v3, c43);
            a = Vector512.Create(x5[i]);
            c50 = Vector512.FusedMultiplyAdd(a, v0, c50); c51 = Vector512.FusedMultiplyAdd(a, v1, c51); c52 = Vector512.FusedMultiplyAdd(a, v2, c52); c53 = Vector512.FusedMultiplyAdd(a, v3, c53);
        }
        c00.Store(y); c01.Store(y + 16); c02.Store(y + 32); c03.Store(y + 48);
        c10.Store(y + 64); c11.Store(y + 80); c12.Store(y + 96); c13.Store(y + 112);
        c20.Store(y + 128); c21.Store(y + 144); c22.Store(y + 160); c23.Store(y + 176);
        c30.Store(y + 192); c31.Store(y + 208); c32.Store(y + 224); c33.Store(y + 240);
        c40.Store(y + 256); c41.Store(y + 272); c42.Store(y + 288); c43.Store(y + 304);
        c50.Store(y + 320); c51.Store(y + 336); c52.Store(y + 352); c53.Store(y + 368);
    }
}
