#!/usr/bin/python3
"""FTRL-Proximal for logistic regression, transcribed from McMahan et al., "Ad Click
Prediction: a View from the Trenches" (KDD 2013), Algorithm 1, with plain loops and floats.
Written from the paper, not from Sluice's C++: per coordinate i keep z_i and n_i; for each
example x_t with feature set I = {i : x_i != 0}:
  for i in I: w_i = 0 if |z_i| <= lambda1
                  else -(z_i - sgn(z_i) lambda1) / ((beta + sqrt(n_i)) / alpha + lambda2)
  p_t = sigma(x_t . w)
  for i in I: g_i = (p_t - y_t) x_i
              sigma_i = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha
              z_i = z_i + g_i - sigma_i w_i
              n_i = n_i + g_i^2
A bias is modelled, as the paper suggests for any always-present feature, as one more coordinate
(index dim) whose value is 1 in every example, listed after the example's own features.
"""
import math


def sgn(v):
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


class FtrlProximal:
    def __init__(self, dim, alpha, beta, lambda1, lambda2, bias=True):
        self.dim, self.alpha, self.beta = dim, alpha, beta
        self.lambda1, self.lambda2, self.bias = lambda1, lambda2, bias
        size = dim + 1 if bias else dim
        self.z = [0.0] * size
        self.n = [0.0] * size

    def weight(self, i):
        if abs(self.z[i]) <= self.lambda1:
            return 0.0
        return -(self.z[i] - sgn(self.z[i]) * self.lambda1) / (
            (self.beta + math.sqrt(self.n[i])) / self.alpha + self.lambda2)

    def features(self, x):
        """x: list of (index, value); zeros are not in I."""
        I = [(i, v) for i, v in x if v != 0.0]
        if self.bias:
            I.append((self.dim, 1.0))
        return I

    def learn(self, x, y):
        """One round of Algorithm 1; returns p_t (the prediction before the update)."""
        I = self.features(x)
        w = {}
        dot = 0.0
        for i, v in I:
            w[i] = self.weight(i)
            dot += w[i] * v
        p = 1.0 / (1.0 + math.exp(-dot))
        for i, v in I:
            g = (p - y) * v
            sigma = (math.sqrt(self.n[i] + g * g) - math.sqrt(self.n[i])) / self.alpha
            self.z[i] = self.z[i] + g - sigma * w[i]
            self.n[i] = self.n[i] + g * g
        return p

    def weights(self):
        out = [self.weight(i) for i in range(self.dim)]
        out.append(self.weight(self.dim) if self.bias else 0.0)
        return out
