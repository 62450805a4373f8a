"""The simulated business, independent of any source system's format.

Owns the world as a closed-form schedule (`world.World`, built once per range): acquisition
(campaigns, spend, clicks, visits, signups), pre-signup journeys, the activation funnel, users
and their teammates, subscription periods and their lifecycle, the sales pipeline's deals, and
when late or corrected subscription versions land. Its building blocks too: counter-based random
draws (`rng`), microsecond time arithmetic (`timeutil`) and the mimesis name pools (`pools`).
Nothing here knows a raw table's columns: data_generation.extracts turns the world into rows.
"""
