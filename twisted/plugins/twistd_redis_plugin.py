from twisted.application.service import ServiceMaker

redis = ServiceMaker("twistd-redis", "twistd_redis.tap", "A Redis-compatible server", "redis")
