using PldrGen.Runtime;
using PldrGen.Runtime.Kernels;
using Xunit;

namespace PldrGen.Tests.Kernels;

public sealed class WeightPrecisionNamesTests
{
    [Fact]
    public void Every_precision_has_one_name_that_parses_back()
    {
        Assert.Equal(["f32", "bf16", "f16", "int8"], WeightPrecisionNames.All);
        foreach (var precision in Enum.GetValues<WeightPrecision>())
            Assert.Equal(precision, WeightPrecisionNames.Parse(precision.Name()));
    }

    [Theory]
    [InlineData("fp32")]
    [InlineData("BF16")]
    [InlineData("")]
    public void Another_name_is_refused_with_the_accepted_ones(string name)
    {
        Assert.False(WeightPrecisionNames.TryParse(name, out _));
        var error = Assert.Throws<PldrException>(() => WeightPrecisionNames.Parse(name));
        Assert.Equal($"weight precision '{name}' is none of f32, bf16, f16, int8", error.Message);
    }
}
