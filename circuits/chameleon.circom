// Chameleon hash well-formedness (docs/chameleon-hash.md): knowledge of a secret r with
//     h = m·B + r·X
// on Baby Jubjub, B = Base8 (the generator of the prime-order subgroup, order L), X = x·B the hash key.
// Public signals, in snarkjs order (outputs first, then inputs in declaration order): hx, hy, Xx, Xy, m.
// Private: r. The trapdoor x never enters the circuit: a collision r' = r + (m − m')·x⁻¹ is computed
// outside and proven like any other hash, so proofs reveal nothing that links r to x.
//
// Checks the circuit itself makes, and why:
// - X is on the curve (BabyCheck). Subgroup membership and X ≠ identity are checked by the verifier
//   outside the circuit (cheaper there; EscalarMulAny assumes both).
// - m < L: without it m and m + L give the same h, a collision anyone could make without the trapdoor.
// - r has 251 bits (r < 2^251 fits the field without wrap-around; L < 2^251 so every r mod L is covered).
pragma circom 2.1.0;

include "../node_modules/circomlib/circuits/babyjub.circom";
include "../node_modules/circomlib/circuits/bitify.circom";
include "../node_modules/circomlib/circuits/comparators.circom";
include "../node_modules/circomlib/circuits/escalarmulfix.circom";
include "../node_modules/circomlib/circuits/escalarmulany.circom";

template ChameleonHash() {
    // Order of Baby Jubjub's prime-order subgroup (< 2^251).
    var L = 2736030358979909402780800718157159386076813972158567259200215660948447373041;
    // Base8 = 8·Generator, a generator of the order-L subgroup.
    var BASE8[2] = [
        5299619240641551281634865583518297030282874472190772894086521144482721001553,
        16950150798460657717958625567821834550301663161624707787222815936182638968203
    ];

    signal input Xx;
    signal input Xy;
    signal input m;
    signal input r;
    signal output hx;
    signal output hy;

    component onCurve = BabyCheck();
    onCurve.x <== Xx;
    onCurve.y <== Xy;

    component mBits = Num2Bits(251);
    mBits.in <== m;
    component mBelowL = LessThan(251);
    mBelowL.in[0] <== m;
    mBelowL.in[1] <== L;
    mBelowL.out === 1;

    component rBits = Num2Bits(251);
    rBits.in <== r;

    component mB = EscalarMulFix(251, BASE8);
    for (var i = 0; i < 251; i++) mB.e[i] <== mBits.out[i];

    component rX = EscalarMulAny(251);
    for (var i = 0; i < 251; i++) rX.e[i] <== rBits.out[i];
    rX.p[0] <== Xx;
    rX.p[1] <== Xy;

    component sum = BabyAdd();
    sum.x1 <== mB.out[0];
    sum.y1 <== mB.out[1];
    sum.x2 <== rX.out[0];
    sum.y2 <== rX.out[1];
    hx <== sum.xout;
    hy <== sum.yout;
}

component main { public [Xx, Xy, m] } = ChameleonHash();
