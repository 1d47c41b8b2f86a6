using PldrGen.Runtime;
using PldrGen.Runtime.Generation;
using Xunit;

namespace PldrGen.Tests.Models;

/// <summary>Sampling settings whose arithmetic would go wrong are refused, not turned into token 0 every step.</summary>
public sealed class SamplingLimitTests
{
    [Fact]
    public void A_temperature_whose_division_overflows_is_refused()
    {
        var e = Assert.Throws<PldrException>(() => new Sampler(new SamplingOptions(Temperature: 1e-45f), vocabSize: 8));
        Assert.StartsWith("temperature must be at least 0.0001 (logits ÷ T overflow below it", e.Message);
    }

    [Fact]
    public void The_smallest_temperature_allowed_still_draws_the_likeliest_token()
    {
        var sampler = new Sampler(new SamplingOptions(Temperature: 1e-4f), vocabSize: 4);
        Assert.Equal(2, sampler.Next([3000f, -3000f, 3001f, 0f]));
    }
}
