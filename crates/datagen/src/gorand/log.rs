//! Go's `math.Log`, so that draws which pass through a logarithm round like Go's.
//!
//! The platform `ln` differs from Go's in the last bit now and then, which is enough to change a
//! TSBS random walk (the ziggurat tail takes logs). This is the classic fdlibm reduction
//! log(x) = k·ln2 + log(1 + f) with the same coefficients and the same order of operations as Go
//! (its amd64 assembly computes exactly this sequence), so results match bit for bit.

// The fdlibm coefficients, given by their bit patterns so no decimal rounding can creep in.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const L1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
const L2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
const L3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
const L4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
const L5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
const L6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
const L7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);

/// Splits `x` (finite, non-zero) into a fraction in [0.5, 1) and a power of two.
fn frexp(x: f64) -> (f64, i32) {
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        (x * (1u64 << 52) as f64, -52)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022 + bias;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp)
}

/// Natural logarithm, bit-identical to Go's `math.Log` on amd64.
pub fn go_log(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    let (mut f1, mut ki) = frexp(x);
    if f1 < std::f64::consts::SQRT_2 / 2.0 {
        f1 *= 2.0;
        ki -= 1;
    }
    let f = f1 - 1.0;
    let k = ki as f64;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
    let t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values_and_accuracy() {
        assert_eq!(go_log(1.0), 0.0);
        assert_eq!(go_log(0.0), f64::NEG_INFINITY);
        assert!(go_log(-1.0).is_nan());
        assert_eq!(go_log(f64::INFINITY), f64::INFINITY);
        for x in [1e-300f64, 5e-324, 0.1, 0.5, 2.0, 10.0, 1e300] {
            let want = x.ln();
            assert!((go_log(x) - want).abs() <= want.abs() * 4e-16, "{x}");
        }
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(5e-324), (0.5, -1073));
    }
}
