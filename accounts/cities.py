"""City tiers as Chinese lenders use them: 1 the four largest cities, 2 the "new first-tier"
cities and provincial capitals, 4 a county (县: rural), 3 every other city."""

TIER_1 = {
    "beijing": "北京", "shanghai": "上海", "guangzhou": "广州", "shenzhen": "深圳",
}
TIER_2 = {
    "chengdu": "成都", "hangzhou": "杭州", "wuhan": "武汉", "xian": "西安", "nanjing": "南京",
    "chongqing": "重庆", "tianjin": "天津", "suzhou": "苏州", "changsha": "长沙",
    "zhengzhou": "郑州", "dongguan": "东莞", "qingdao": "青岛", "shenyang": "沈阳",
    "ningbo": "宁波", "kunming": "昆明", "hefei": "合肥", "foshan": "佛山", "wuxi": "无锡",
    "xiamen": "厦门", "jinan": "济南", "fuzhou": "福州", "dalian": "大连", "harbin": "哈尔滨",
    "changchun": "长春", "shijiazhuang": "石家庄", "taiyuan": "太原", "nanchang": "南昌",
    "nanning": "南宁", "guiyang": "贵阳", "lanzhou": "兰州", "hohhot": "呼和浩特",
    "urumqi": "乌鲁木齐", "xining": "西宁", "yinchuan": "银川", "haikou": "海口",
    "lhasa": "拉萨",
}
OTHER_TIER = 3
RURAL_TIER = 4
RURAL_SUFFIXES = ("county", "县")
_TIERS = {name: tier for tier, table in ((1, TIER_1), (2, TIER_2))
          for latin, chinese in table.items() for name in (latin, chinese)}


def _key(city: str) -> str:
    """Case, spaces, apostrophes, hyphens and a trailing "city" / 市 do not matter:
    "Xi'an", "XIAN", "xi an" and "西安市" are one city."""
    key = "".join(ch for ch in str(city).strip().lower() if ch not in " '’-_.")
    for suffix in ("city", "shi", "市"):
        if key.endswith(suffix) and key[: -len(suffix)] in _TIERS:
            return key[: -len(suffix)]
    return key


def city_tier(city: str) -> int:
    key = _key(city)
    if key not in _TIERS and key.endswith(RURAL_SUFFIXES):
        return RURAL_TIER
    return _TIERS.get(key, OTHER_TIER)
